"""Disclosure policy: what categories of a person's data an outbound record discloses (from the fields it
carries a value in, disclosure.yaml), on what legal basis, and who received a person's data (the audit
query over the append-only `disclosures` table). The cycle's disclose stage (pipeline/cycle/disclose.py)
applies it to every outbound file it wrote.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import duckdb
import polars as pl
import yaml

COLUMNS = {
    "cycle_id": pl.Utf8,
    "recipient": pl.Utf8,
    "file_name": pl.Utf8,
    "layout": pl.Utf8,
    "record_type": pl.Utf8,
    "line_no": pl.Int64,
    "person_key": pl.Utf8,
    "member_id": pl.Utf8,
    "categories": pl.List(pl.Utf8),
    "legal_basis": pl.Utf8,
}


@cache
def _rules() -> dict:
    return yaml.safe_load((Path(__file__).parent / "disclosure.yaml").read_text())


def field_category(name: str) -> str | None:
    return next((c["category"] for c in _rules()["categories"] if re.search(c["fields"], name)), None)


def legal_basis(layout: str) -> str:
    return _rules()["legal_basis"].get(layout) or _rules()["default_legal_basis"].format(layout=layout)


def categories_expr(frame: pl.DataFrame) -> pl.Expr:
    """Per row, the sorted categories of the fields that hold a value (vectorised, one expr per category)."""
    by_category: dict[str, list[str]] = {}
    for column in frame.columns:
        if (category := field_category(column)) is not None:
            by_category.setdefault(category, []).append(column)
    flags = [
        pl.when(pl.any_horizontal([pl.col(c).is_not_null() for c in cols])).then(pl.lit(cat))
        for cat, cols in sorted(by_category.items())
    ]
    return pl.concat_list(flags).list.drop_nulls() if flags else pl.lit([], dtype=pl.List(pl.Utf8))


def disclosures_of(
    con: duckdb.DuckDBPyConnection, ssn: str | None = None, member_id: str | None = None, recipient: str | None = None
) -> pl.DataFrame:
    """Who received this person's data, when: the log filtered by person and/or recipient."""
    where, params = ["TRUE"], []
    for column, value in (("person_key", ssn), ("member_id", member_id), ("recipient", recipient)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    return con.execute(
        f"""SELECT d.cycle_id, c.as_of, d.recipient, d.file_name, d.record_type, d.person_key,
            d.member_id, array_to_string(d.categories, ',') AS categories, d.legal_basis
        FROM disclosures d LEFT JOIN cycles c USING (cycle_id) WHERE {" AND ".join(where)}
        ORDER BY d.cycle_id, d.recipient, d.file_name, d.line_no""",
        params,
    ).pl()
