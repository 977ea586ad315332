"""The house rules a test can hold: every pipeline package says what it owns, and no module grows into two
concerns. (The import layers are import-linter contracts in pyproject.toml, checked by `make lint`.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
PACKAGES = sorted(p.parent for p in (ROOT / "pipeline").glob("*/__init__.py"))
MODULES = sorted(p for top in ("pipeline", "matchers", "reports", "synth", "bench") for p in (ROOT / top).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_each_package_says_what_it_owns(package: Path):
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
    assert doc and len(doc.split()) >= 15, (
        f"{package.name}/__init__.py needs a docstring: what it owns, what it may import"
    )


def test_the_engine_is_packages_by_concern():
    loose = sorted(p.name for p in (ROOT / "pipeline").glob("*.py") if p.name not in ("__init__.py", "clikit.py"))
    assert not loose, f"modules outside a package under pipeline/: {loose}"
    assert {p.name for p in PACKAGES} >= {"files", "store", "cycle", "enforcement", "portal", "safeguards", "cli"}


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_two_concerns(module: Path):
    lines = len(module.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module.relative_to(ROOT)} has {lines} lines: split it by concern"
