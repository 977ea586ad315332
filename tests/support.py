"""Test helpers: valid and invalid values for any layout field, and records built from them."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import polars as pl
from hypothesis import find, settings
from hypothesis import strategies as st

from pipeline.files.layouts import Field, Layout, Record
from pipeline.files.writer import render_records

ROOT = Path(__file__).resolve().parent.parent
FPLS = [sys.executable, "-m", "pipeline.cli"]
VALID_CANDIDATES = ["20260101", "1", "A", "KS", "01", "Y", "M"]
TYPE_BREAKERS = {"alpha": "A1B", "alnum": "abc", "numeric": "12X", "amount": "1X", "date": "20261340", "code": "?"}


def _type_ok(f: Field, value: str) -> bool:
    pattern = {
        "alpha": r"^[A-Z \-]*$",
        "alnum": r"^[\x20-\x60\x7B-\x7E]*$",
        "numeric": r"^\d+$",
        "amount": r"^\d+$",
        "date": r"^(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d)$",
    }.get(f.type, r".*")
    return bool(re.match(pattern, value)) and (not f.values or value in f.values)


def _fits(f: Field, value: str) -> bool:
    return (
        (not f.length or len(value) <= f.length)
        and _type_ok(f, value)
        and (not f.pattern or re.search(f.pattern, value) is not None)
    )


@cache
def valid_value(f: Field) -> str:
    """A value that passes every check of the field (filled to the field's length where needed)."""
    if f.values:
        return f.values[0]
    for width in [f.length] if f.length else range(1, 21):
        for seed in VALID_CANDIDATES:
            for value in (seed * width)[:width], seed, seed.rjust(width, "0"):
                if value.strip() and _fits(f, value):
                    return value
    if f.pattern:  # let hypothesis find the simplest string of the pattern that also fits type and length
        return find(
            st.from_regex(f.pattern, fullmatch=True),
            lambda v: bool(v.strip()) and _fits(f, v),
            settings=settings(database=None, max_examples=2000),
        )
    raise AssertionError(f"no valid sample value for field {f.name} pattern {f.pattern!r}")


def pattern_breaker(f: Field) -> str | None:
    """A value of the right type that the field's pattern refuses (None if none is found)."""
    width = f.length or 9
    for value in ["1", "A", "0" * width, "9" * width, "A" * width, "1" * max(1, width - 1), "00"]:
        value = value[:width]
        written = (
            value.rjust(width, "0") if f.length and f.type in {"numeric", "amount"} else value
        )  # writer zero-fills
        if _type_ok(f, value) and re.search(f.pattern, written) is None:
            return value
    return None


def valid_row(record: Record) -> dict[str, str]:
    return {f.name: valid_value(f) for f in record.kept_fields}


def record_line(record: Record, values: dict[str, str]) -> str:
    """One fixed-width line holding the given text values, rendered by the production writer."""
    frame = pl.DataFrame({k: [v] for k, v in values.items()}, schema={k: pl.Utf8 for k in values})
    return render_records(frame, record)[0]


def control_values(layout: Layout, record: Record, data_rows: list[tuple[str, dict]]) -> dict[str, str]:
    """A valid control record whose counts and sums agree with the data rows."""
    values = valid_row(record)
    for c in layout.controls:
        if c.record != record.id:
            continue
        rows = [
            row
            for rid, row in data_rows
            if rid in ({c.sum_record} if c.sum_record else set(c.count)) and all(row.get(k) == v for k, v in c.where)
        ]
        values[c.field] = str(
            sum(int(v) for row in rows if (v := row.get(c.sum_field, "")).isdigit()) if c.sum_record else len(rows)
        )
    return values


def minimal_file(layout: Layout, data_rows: list[tuple[str, dict]]) -> str:
    """Header (if any) + data lines + trailer (if any); controls agree with the data rows."""
    head, tail = layout.header, layout.trailer_record
    lines = [record_line(head, control_values(layout, head, data_rows))] if head else []
    lines += [record_line(layout.record(rid), row) for rid, row in data_rows]
    lines += [record_line(tail, control_values(layout, tail, data_rows))] if tail else []
    return "\n".join(lines) + "\n"


def run_fpls(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*FPLS, *map(str, args)], capture_output=True, text=True, cwd=cwd)


def csv_text(layout: Layout, rows: list[dict]) -> str:
    record = layout.by_role("data")[0]
    frame = pl.DataFrame([{f.column: row.get(f.name, "") for f in record.kept_fields} for row in rows])
    return frame.write_csv()
