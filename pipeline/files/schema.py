"""pandera-polars schemas generated from record layouts (never written by hand per file type).

Each record type becomes one `DataFrameSchema` over its stripped text columns (blank = null). Every
check is named with its error code from error_codes.yaml, so pandera's failure cases map straight
onto reject rows; `typed_columns` then casts accepted rows to their layout types. The checks are
declared once (`field_rules`) and used twice: by pandera, and folded into `row_is_valid`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pandera.polars as pa
import polars as pl

from pipeline.files.layouts import Field, Record, Rule

ALPHA = r"^[A-Z \-]*$"  # upper-case letters, space, hyphen (NDNH rule)
ALNUM = r"^[\x20-\x60\x7B-\x7E]*$"  # printable ASCII without lower case
DIGITS = r"^[0-9]+$"
DATE_FORMAT = "%Y%m%d"
REQUIRED_CHECK = "not_nullable"  # pandera's own name for a null in a non-nullable column


def parse_date(col: pl.Expr) -> pl.Expr:
    return col.str.to_date(DATE_FORMAT, strict=False)


def _type_rule(f: Field) -> tuple[str, Callable[[pl.Expr], pl.Expr]] | None:
    """(error code, builder of a bool expression over the field's text column) for the field's type."""
    match f.type:
        case "alpha":
            return "BAD_CHARACTERS", lambda c: c.str.contains(ALPHA)
        case "alnum":
            return "BAD_CHARACTERS", lambda c: c.str.contains(ALNUM)
        case "numeric" | "amount":
            return "BAD_NUMBER", lambda c: c.str.contains(DIGITS)
        case "date":
            return "BAD_DATE", lambda c: c.str.contains(r"^\d{8}$") & parse_date(c).is_not_null()
        case "code":
            values = list(f.values)
            return "BAD_CODE", lambda c: c.is_in(values)
        case "filler":
            return "NOT_BLANK_FILLER", lambda c: pl.lit(False)
    return None


def field_rules(f: Field) -> list[tuple[str, Callable[[pl.Expr], pl.Expr]]]:
    """Every value check of a field. A blank (null) value passes them all: blanks are REQUIRED's business."""
    rules = [r for r in [_type_rule(f)] if r]
    if f.pattern:
        rules.append(("BAD_PATTERN", lambda c, p=f.pattern: c.str.contains(p)))
    return [(code, lambda c, b=build: c.is_null() | b(c)) for code, build in rules]


def rejects_blank(f: Field) -> bool:
    """A blank value rejects the record (a required field of severity error)."""
    return f.required and f.severity == "error"


def _any_of(rule: Rule) -> pl.Expr:
    return pl.any_horizontal([pl.col(n).is_not_null() for n in rule.any_of])


@cache
def record_schema(record: Record, only: frozenset[str] | None = None) -> pa.DataFrameSchema:
    """The pandera schema of one record type; every check named by its error code. `only`: the schema
    reduced to these parts (field names, and rule codes as in `check_parts`), in the same order."""

    def check(code: str, build) -> pa.Check:
        return pa.Check(lambda data: data.lazyframe.select(build(pl.col(data.key))), name=code)

    columns = {
        f.name: pa.Column(
            pl.Utf8,
            nullable=not rejects_blank(f),
            required=True,
            checks=[check(code, build) for code, build in field_rules(f)],
        )
        for f in record.fields
        if only is None or f.name in only
    }
    rules = [
        pa.Check(lambda data, r=r: data.lazyframe.select(_any_of(r)), name=r.code)
        for i, r in enumerate(record.rules)
        if only is None or _rule_part(i) in only
    ]
    return pa.DataFrameSchema(columns, checks=rules, name=record.id)


def _rule_part(index: int) -> str:
    return f"\x00rule{index}"  # never a field name


@cache
def check_parts(record: Record) -> tuple[tuple[str, pl.Expr], ...]:
    """(part, expression true where a row passes that part) for each field with checks and each rule: the
    checks of `record_schema` grouped by what pandera reports them on."""
    parts = []
    for f in record.fields:
        col = pl.col(f.name)
        exprs = [build(col) for _, build in field_rules(f)] + ([col.is_not_null()] if f.required else [])
        if exprs:
            parts.append((f.name, pl.all_horizontal(exprs)))
    parts += [(_rule_part(i), _any_of(r)) for i, r in enumerate(record.rules)]
    return tuple(parts)


@cache
def row_is_valid(record: Record) -> pl.Expr:
    """The same checks as `record_schema`, folded into one expression: True where a row passes them all.

    Evaluated in one parallel pass as a pre-screen, so pandera only has to explain the rows that fail."""
    parts = [_any_of(r) for r in record.rules]
    for f in record.fields:
        col = pl.col(f.name)
        parts += [build(col) for _, build in field_rules(f)]
        if rejects_blank(f):
            parts.append(col.is_not_null())
    return pl.all_horizontal(parts) if parts else pl.lit(True)


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
