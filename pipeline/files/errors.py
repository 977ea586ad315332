"""Validation codes and the rejects table (errors as data, one registry: error_codes.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml

REJECT_COLUMNS = {
    "file": pl.Utf8,
    "line": pl.Int64,
    "record_type": pl.Utf8,
    "field": pl.Utf8,
    "code": pl.Utf8,
    "message": pl.Utf8,
    "value": pl.Utf8,
}


@dataclass(frozen=True)
class ErrorCode:
    code: str
    scope: str
    severity: str
    message: str


@cache
def registry() -> dict[str, ErrorCode]:
    data = yaml.safe_load((Path(__file__).parent / "error_codes.yaml").read_text())
    return {code: ErrorCode(code, **spec) for code, spec in data.items()}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render(code: str, **values: object) -> str:
    """The message for a code, its template filled from `values` (missing names stay blank)."""
    return registry()[code].message.format_map(_Blank(values))


def empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_COLUMNS)


def reject_row(file: str, line: int, record_type: str, field: str, code: str, value: str = "", **detail) -> dict:
    """One reject as a dict in REJECT_COLUMNS order; callers pass values already masked."""
    message = render(code, field=field, record_type=record_type, **detail)
    return {
        "file": file,
        "line": line,
        "record_type": record_type,
        "field": field,
        "code": code,
        "message": message,
        "value": value,
    }


def rejects_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=REJECT_COLUMNS) if rows else empty_rejects()
