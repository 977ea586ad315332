"""pandera-polars schemas generated from record layouts (never written by hand per file type).

Each record type becomes one `DataFrameSchema` over its stripped text columns (blank = null). Every
check is named with its error code from error_codes.yaml, so pandera's failure cases map straight
onto reject rows; `typed_columns` then casts accepted rows to their layout types.
"""
from __future__ import annotations

from functools import cache

import pandera.polars as pa
import polars as pl

from pipeline.layouts import Field, Record, Rule

ALPHA = r"^[A-Z \-]*$"                      # upper-case letters, space, hyphen (NDNH rule)
ALNUM = r"^[\x20-\x60\x7B-\x7E]*$"          # printable ASCII without lower case
DIGITS = r"^[0-9]+$"
DATE_FORMAT = "%Y%m%d"
REQUIRED_CHECK = "not_nullable"             # pandera's own name for a null in a non-nullable column


def _expr_check(code: str, build) -> pa.Check:
    """A pandera check from a polars expression builder `build(pl.col(key)) -> bool Expr`.

    A blank (null) value passes every check: blanks are the REQUIRED check's business."""
    return pa.Check(lambda data: data.lazyframe.select(pl.col(data.key).is_null() | build(pl.col(data.key))), name=code)


def parse_date(col: pl.Expr) -> pl.Expr:
    return col.str.to_date(DATE_FORMAT, strict=False)


def _type_checks(f: Field) -> list[pa.Check]:
    match f.type:
        case "alpha":
            return [_expr_check("BAD_CHARACTERS", lambda c: c.str.contains(ALPHA))]
        case "alnum":
            return [_expr_check("BAD_CHARACTERS", lambda c: c.str.contains(ALNUM))]
        case "numeric" | "amount":
            return [_expr_check("BAD_NUMBER", lambda c: c.str.contains(DIGITS))]
        case "date":
            return [_expr_check("BAD_DATE", lambda c: c.str.contains(r"^\d{8}$") & parse_date(c).is_not_null())]
        case "code":
            values = list(f.values)
            return [_expr_check("BAD_CODE", lambda c: c.is_in(values))]
        case "filler":
            return [_expr_check("NOT_BLANK_FILLER", lambda c: pl.lit(False))]
    return []


def field_checks(f: Field) -> list[pa.Check]:
    checks = _type_checks(f)
    if f.pattern:
        checks.append(_expr_check("BAD_PATTERN", lambda c, p=f.pattern: c.str.contains(p)))
    return checks


def _any_of_check(rule: Rule) -> pa.Check:
    names = list(rule.any_of)
    return pa.Check(
        lambda data: data.lazyframe.select(pl.any_horizontal([pl.col(n).is_not_null() for n in names])),
        name=rule.code,
    )


@cache
def record_schema(record: Record) -> pa.DataFrameSchema:
    columns = {
        f.name: pa.Column(pl.Utf8, nullable=not f.required, checks=field_checks(f), required=True)
        for f in record.fields
    }
    return pa.DataFrameSchema(columns, checks=[_any_of_check(r) for r in record.rules],
                              name=record.id)


def typed_expr(f: Field) -> pl.Expr:
    """Cast a validated text column to its layout type (money and counts as Int64, never float)."""
    col = pl.col(f.name)
    match f.type:
        case "date":
            return parse_date(col).alias(f.name)
        case "amount":
            return col.cast(pl.Int64, strict=False).alias(f.name)
    return col


def typed_columns(frame: pl.DataFrame, record: Record) -> pl.DataFrame:
    """Drop filler, cast dates and amounts; other fields stay text (leading zeros matter)."""
    fillers = [f.name for f in record.fields if not f.kept and f.name in frame.columns]
    return frame.drop(fillers).with_columns([typed_expr(f) for f in record.kept_fields if f.type in {"date", "amount"}])
