"""Record layouts: load `layouts/*.yaml`, check each one in full, expose typed dataclasses.

A layout is data (see layouts/README.md). Loading never stops at the first problem: every problem
in a file is collected and reported together, each naming the file, record and field.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pipeline.files.errors import registry as error_codes

LAYOUT_DIR = Path(__file__).resolve().parents[2] / "layouts"

FIELD_TYPES = {"alpha", "alnum", "numeric", "date", "amount", "code", "filler"}
ROLES = {"header", "data", "trailer"}
PROVENANCE = {"S", "D", "K", "P"}
UNITS = {"cents", "dollars", "count"}
LAYOUT_KEYS = {
    "name",
    "title",
    "direction",
    "format",
    "record_length",
    "max_reject_rate",
    "trailer",
    "detect",
    "records",
    "controls",
    "description",
    "encoding",
}
RECORD_KEYS = {"id", "role", "match", "description", "fields", "rules", "length"}
FIELD_KEYS = {
    "name",
    "start",
    "length",
    "column",
    "type",
    "required",
    "values",
    "pattern",
    "unit",
    "pii",
    "description",
    "prov",
    "severity",
}
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


class LayoutError(ValueError):
    """A layout file is wrong; `problems` lists every problem found."""

    def __init__(self, path: Path, problems: list[str]):
        self.path, self.problems = path, problems
        super().__init__(f"layout {path.name}: {len(problems)} problem(s)\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    start: int = 0  # 1-based, fixed-width only
    length: int = 0
    column: str = ""  # csv only
    required: bool = False
    values: tuple[str, ...] = ()
    pattern: str = ""
    unit: str = ""
    pii: str = ""
    description: str = ""
    prov: str = "P"
    severity: str = "error"  # warning: a blank (when required) or invalid value is kept as unknown, with a warning

    @property
    def end(self) -> int:
        return self.start + self.length - 1

    @property
    def kept(self) -> bool:
        return self.type != "filler"


@dataclass(frozen=True)
class Rule:
    """A record-level rule: at least one of `any_of` must be non-blank."""

    code: str
    any_of: tuple[str, ...]


@dataclass(frozen=True)
class Record:
    id: str
    role: str
    fields: tuple[Field, ...]
    match_start: int = 1  # 0 = default record (any line no other record matches)
    match_value: str = ""
    description: str = ""
    rules: tuple[Rule, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.match_start == 0

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def kept_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.kept)


@dataclass(frozen=True)
class Control:
    record: str
    field: str
    count: tuple[str, ...] = ()
    sum_record: str = ""
    sum_field: str = ""
    where: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Layout:
    name: str
    title: str
    direction: str
    format: str
    records: tuple[Record, ...]
    record_length: int = 0
    max_reject_rate: float | None = None
    trailer: str = "none"
    detect: tuple[tuple[int, str], ...] = ()
    detect_columns: tuple[str, ...] = ()
    controls: tuple[Control, ...] = ()
    path: Path = field(default=Path(), compare=False)

    def record(self, record_id: str) -> Record:
        return next(r for r in self.records if r.id == record_id)

    def by_role(self, role: str) -> tuple[Record, ...]:
        return tuple(r for r in self.records if r.role == role)

    @property
    def header(self) -> Record | None:
        return next(iter(self.by_role("header")), None)

    @property
    def trailer_record(self) -> Record | None:
        return next(iter(self.by_role("trailer")), None)


# ---------------------------------------------------------------- checking


def _unknown_keys(where: str, data: dict, allowed: set[str]) -> list[str]:
    return [f"{where}: unknown key '{k}'" for k in sorted(set(data) - allowed)]


def _check_field(where: str, f: dict, csv: bool) -> list[str]:
    problems = _unknown_keys(where, f, FIELD_KEYS)
    name = f.get("name", "")
    if not SNAKE.match(str(name)):
        problems.append(f"{where}: name '{name}' is not snake_case")
    if f.get("type") not in FIELD_TYPES:
        problems.append(f"{where}: type '{f.get('type')}' is not one of {sorted(FIELD_TYPES)}")
    if f.get("prov", "P") not in PROVENANCE:
        problems.append(f"{where}: prov '{f.get('prov')}' is not one of S D K P")
    if f.get("severity", "error") not in ("error", "warning"):
        problems.append(f"{where}: severity '{f.get('severity')}' is not error or warning")
    if f.get("type") == "amount" and f.get("unit") not in UNITS:
        problems.append(f"{where}: amount needs unit in {sorted(UNITS)}")
    if f.get("type") == "code" and not f.get("values"):
        problems.append(f"{where}: code field needs values")
    if f.get("pattern"):
        try:
            re.compile(f["pattern"])
        except re.error as exc:
            problems.append(f"{where}: bad pattern ({exc})")
    if csv and "column" not in f and "name" not in f:
        problems.append(f"{where}: csv field needs a column")
    if not csv and not (isinstance(f.get("start"), int) and isinstance(f.get("length"), int) and f["length"] > 0):
        problems.append(f"{where}: fixed-width field needs integer start and positive length")
    return problems


def _check_positions(where: str, fields: list[dict], record_length: int) -> list[str]:
    """Fields must tile 1..record_length exactly: no overlap, no undeclared gap, nothing past the end."""
    problems, expected = [], 1
    placed = sorted(
        (f for f in fields if isinstance(f.get("start"), int) and isinstance(f.get("length"), int)),
        key=lambda f: f["start"],
    )
    for f in placed:
        if f["start"] < expected:
            problems.append(f"{where}.{f['name']}: starts at {f['start']}, overlaps the field ending at {expected - 1}")
        elif f["start"] > expected:
            problems.append(f"{where}.{f['name']}: gap {expected}-{f['start'] - 1} before it is not declared as filler")
        expected = max(expected, f["start"] + f["length"])
    if expected - 1 != record_length:
        problems.append(f"{where}: fields total {expected - 1} bytes, record_length is {record_length}")
    return problems


def _check_record(where: str, rec: dict, layout: dict) -> list[str]:
    problems = _unknown_keys(where, rec, RECORD_KEYS)
    if rec.get("role") not in ROLES:
        problems.append(f"{where}: role '{rec.get('role')}' is not one of {sorted(ROLES)}")
    fields = rec.get("fields") or []
    if not fields:
        problems.append(f"{where}: no fields")
    csv = layout.get("format") == "csv"
    for i, f in enumerate(fields):
        problems += _check_field(f"{where}.{f.get('name', f'#{i + 1}')}", f, csv)
    names = [f.get("name") for f in fields]
    problems += [f"{where}.{n}: duplicate field name" for n in sorted({n for n in names if names.count(n) > 1})]
    if not csv:
        problems += _check_positions(where, fields, int(layout.get("record_length") or 0))
        match = rec.get("match")
        if isinstance(match, dict) and match.get("start", 1) + len(str(match.get("value", ""))) - 1 > int(
            layout.get("record_length") or 0
        ):
            problems.append(f"{where}: match lies outside the record")
    for rule in rec.get("rules") or []:
        if set(rule) != {"code", "any_of"}:
            problems.append(f"{where}: a rule needs exactly code and any_of, got {sorted(rule)}")
        if rule.get("code") not in error_codes():
            problems.append(f"{where}: rule code '{rule.get('code')}' is not in pipeline/files/error_codes.yaml")
        missing = [n for n in rule.get("any_of", []) if n not in names]
        problems += [f"{where}: rule {rule.get('code')} names unknown field '{n}'" for n in missing]
    return problems


def _check_controls(layout: dict) -> list[str]:
    fields = {(r.get("id"), f.get("name")) for r in layout.get("records") or [] for f in r.get("fields") or []}
    ids = {r.get("id") for r in layout.get("records") or []}
    problems = []
    for c in layout.get("controls") or []:
        refs = [c.get("field", "")] + ([c["sum"]] if "sum" in c else [])
        for ref in refs:
            rec, _, name = str(ref).partition(".")
            if (rec, name) not in fields:
                problems.append(f"control {c}: unknown record.field '{ref}'")
        problems += [f"control {c}: unknown record '{r}'" for r in c.get("count", []) if r not in ids]
        scope = str(c.get("sum", "")).partition(".")[0] or next(iter(c.get("count", [])), "")
        problems += [
            f"control {c}: where names unknown field '{scope}.{k}'"
            for k in c.get("where") or {}
            if (scope, k) not in fields
        ]
    return problems


def check_layout(path: Path, data: Any) -> list[str]:
    """Every problem with one layout document, as readable strings (empty list = fine)."""
    if not isinstance(data, dict):
        return ["not a YAML mapping"]
    problems = _unknown_keys("layout", data, LAYOUT_KEYS)
    if data.get("name") != path.stem:
        problems.append(f"layout: name '{data.get('name')}' differs from the file name '{path.stem}'")
    if data.get("format") not in {"fixed", "csv"}:
        problems.append(f"layout: format '{data.get('format')}' is not fixed or csv")
    if data.get("format") == "fixed" and not isinstance(data.get("record_length"), int):
        problems.append("layout: fixed format needs an integer record_length")
    records = data.get("records") or []
    ids = [r.get("id") for r in records]
    problems += [f"record {i}: duplicate record id" for i in sorted({i for i in ids if ids.count(i) > 1})]
    for rec in records:
        problems += _check_record(f"record {rec.get('id')}", rec, data)
    return problems + _check_controls(data)


# ---------------------------------------------------------------- building


def _build_field(f: dict, csv: bool) -> Field:
    return Field(
        name=f["name"],
        type=f["type"],
        start=int(f.get("start", 0)),
        length=int(f.get("length", 0)),
        column=str(f.get("column", f["name"] if csv else "")),
        required=bool(f.get("required", False)),
        values=tuple(str(v) for v in f.get("values", ())),
        pattern=str(f.get("pattern", "")),
        unit=str(f.get("unit", "")),
        pii=str(f.get("pii", "")),
        description=str(f.get("description", "")),
        prov=str(f.get("prov", "P")),
        severity=str(f.get("severity", "error")),
    )


def _build_record(rec: dict, csv: bool) -> Record:
    match = rec.get("match", "default")
    start, value = (0, "") if match == "default" or match is None else (int(match.get("start", 1)), str(match["value"]))
    return Record(
        id=str(rec["id"]),
        role=rec["role"],
        fields=tuple(_build_field(f, csv) for f in rec["fields"]),
        match_start=start,
        match_value=value,
        description=str(rec.get("description", "")),
        rules=tuple(Rule(str(r["code"]), tuple(r["any_of"])) for r in rec.get("rules") or ()),
    )


def _build_control(c: dict) -> Control:
    record, _, name = c["field"].partition(".")
    sum_record, _, sum_field = str(c.get("sum", "")).partition(".")
    where = tuple((k, str(v)) for k, v in (c.get("where") or {}).items())
    return Control(record, name, tuple(c.get("count", ())), sum_record, sum_field, where)


def _build_layout(path: Path, data: dict) -> Layout:
    csv = data["format"] == "csv"
    detect = data.get("detect") or []
    return Layout(
        name=data["name"],
        title=str(data.get("title", "")),
        direction=str(data.get("direction", "inbound")),
        format=data["format"],
        records=tuple(_build_record(r, csv) for r in data["records"]),
        record_length=int(data.get("record_length") or 0),
        max_reject_rate=data.get("max_reject_rate"),
        trailer=str(data.get("trailer", "none")),
        detect=tuple((int(d["start"]), str(d["value"])) for d in detect) if isinstance(detect, list) else (),
        detect_columns=tuple(detect.get("columns", ())) if isinstance(detect, dict) else (),
        controls=tuple(_build_control(c) for c in data.get("controls") or ()),
        path=path,
    )


def load_layout_file(path: Path) -> Layout:
    """Load and fully check one layout file; raise LayoutError listing every problem."""
    try:
        data = yaml.load(path.read_text(), Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        raise LayoutError(path, [f"not valid YAML: {exc}"]) from None
    problems = check_layout(path, data)
    if problems:
        raise LayoutError(path, problems)
    return _build_layout(path, data)


def _cache_file(directory: Path, paths: list[Path]) -> Path:
    """Where the checked layouts of exactly these bytes are kept, like Python's own bytecode cache: the
    name hashes every layout, the error-code registry the checks use, this module and the folder."""
    folder = hashlib.sha256(str(directory).encode()).hexdigest()[:8]
    digest = hashlib.sha256()
    for source in [Path(__file__), Path(__file__).with_name("error_codes.yaml"), *paths]:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return Path(__file__).parent / "__pycache__" / f"layouts-{folder}-{digest.hexdigest()[:24]}.pickle"


def _checked_layouts(directory: Path) -> dict[str, Layout]:
    """Every layout in the directory, each checked in full; reloaded from the cache while nothing changed
    (parsing and checking 30 YAML files costs ~65 ms in every process that reads a file)."""
    paths = sorted(directory.glob("*.yaml"))
    cached = _cache_file(directory, paths)
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
        return pickle.loads(cached.read_bytes())
    layouts = {p.stem: load_layout_file(p) for p in paths}
    with contextlib.suppress(OSError):  # a read-only install simply never caches
        cached.parent.mkdir(exist_ok=True)
        temporary = cached.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(pickle.dumps(layouts))
        temporary.replace(cached)
        for stale in cached.parent.glob(cached.name.rsplit("-", 1)[0] + "-*.pickle"):
            if stale != cached:
                stale.unlink(missing_ok=True)
    return layouts


@cache
def load_all_layouts(directory: Path = LAYOUT_DIR) -> dict[str, Layout]:
    """Every layout in the directory by name (raises on the first broken file, listing all its problems)."""
    if directory != LAYOUT_DIR:  # only the project's own layouts are cached
        return {p.stem: load_layout_file(p) for p in sorted(directory.glob("*.yaml"))}
    return _checked_layouts(directory)


def load_layout(name: str) -> Layout:
    layouts = load_all_layouts()
    if name not in layouts:
        raise KeyError(f"unknown layout '{name}'; known: {', '.join(sorted(layouts))}")
    return layouts[name]
