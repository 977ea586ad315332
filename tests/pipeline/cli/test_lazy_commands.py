"""`fpls` imports a command's module only when that command runs (pipeline/cli/app.py, issue 16): an operator's
`fpls query person` during a 1M-person cycle pays for DuckDB and typer, not for polars, pyarrow, pandera or
the matchers. The help and every command stay as they were."""

from __future__ import annotations

import json
from importlib import import_module

import typer
from typer.main import get_command_name

from pipeline.cli.app import COMMAND_MODULES
from tests.pipeline.cli.probe import probe_fpls
from tests.pipeline.cycle.conftest import fpls

HEAVY = ("polars", "pyarrow", "pandas", "pandera", "numpy", "yaml", "rapidfuzz", "jellyfish", "altair")
COMMAND_MODULE_NAMES = tuple(COMMAND_MODULES)

AFTER = (
    "import json\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy} or m in {commands})))"
)


def _imported(*argv: str) -> tuple[set[str], str]:
    """The heavy packages and command modules an `fpls ARGV` process imported, and what it printed."""
    stdout = probe_fpls(argv, AFTER.format(heavy=set(HEAVY), commands=set(COMMAND_MODULE_NAMES)))
    *printed, modules = stdout.rstrip("\n").split("\n")
    return {m.split(".")[0] if m.split(".")[0] in HEAVY else m for m in json.loads(modules)}, "\n".join(printed)


def _names(module_name: str) -> list[str]:
    app = typer.Typer()
    import_module(module_name).register(app)
    commands = [c.name or get_command_name(c.callback.__name__) for c in app.registered_commands]
    return commands + [g.name for g in app.registered_groups]


def test_the_table_names_what_each_module_registers():
    for module_name, names in COMMAND_MODULES.items():
        assert sorted(_names(module_name)) == sorted(names), module_name


def test_query_person_help_imports_no_heavy_package():
    modules, printed = _imported("query", "person", "--help")
    assert "--ssn" in printed and "--show-ssn" in printed
    assert not modules & set(HEAVY), modules
    assert "matchers.cli" not in modules and "synth.cli" not in modules and "reports.cli" not in modules


def test_a_query_answers_without_polars_or_pyarrow(reference_home):
    modules, printed = _imported("query", "person", "--home", str(reference_home), "--ssn", "123456781", "--json")
    doc = json.loads(printed)
    assert {(p["state"], p["case_id"]) for p in doc["persons"]} >= {("KS", "KSCASE1"), ("MO", "MOCASE1")}
    assert {p["ssn"] for p in doc["persons"]} == {"***-**-6781"} and "123456781" not in printed
    assert not modules & set(HEAVY), modules


def test_a_command_imports_only_its_own_module():
    modules, _ = _imported("generate", "--help")
    assert modules & set(COMMAND_MODULE_NAMES) == {"synth.cli"}


def test_help_lists_every_command_in_registration_order():
    out = fpls("--help", check=True).stdout
    names = [line.split()[1] for line in out.splitlines() if line.startswith("│ ") and line[2] not in " -"]
    plain = ["validate", "read", "run", "eval", "link", "verify-ssn", "generate", "report", "purge"]
    groups = ["layouts", "query", "passport", "misidentified", "employers", "audit", "store", "irg", "ede", "dra"]
    assert names[: len(plain) + len(groups)] == plain + groups and "submissions" in names
    assert "Did you mean 'query'?" in fpls("quer", "person").stderr


def test_the_query_group_gathers_every_package_query():
    out = fpls("query", "--help", check=True).stdout
    assert "FCR queries." in out
    assert [w for w in ("person", "employer", "case") if f"│ {w} " in out] == ["person", "employer", "case"]
