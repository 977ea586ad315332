"""Disclosure log: which recipient received which person's data, when, what, and on what basis.

A stage after the outbound writer: it reads the cycle's manifests and decodes every outbound file
through its layout, so the log records what the bytes really disclose (not what the code meant to
send). The log is append-only: a rerun of the same cycle adds nothing it already holds.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import polars as pl
import yaml

from pipeline.decode import decode_file
from pipeline.layouts import Layout, Record, load_layout
from pipeline.store import insert_frame, transaction

COLUMNS = {"cycle_id": pl.Utf8, "recipient": pl.Utf8, "file_name": pl.Utf8, "layout": pl.Utf8,
           "record_type": pl.Utf8, "line_no": pl.Int64, "person_key": pl.Utf8, "member_id": pl.Utf8,
           "categories": pl.List(pl.Utf8), "legal_basis": pl.Utf8}


@dataclass
class DisclosureResult:
    files: int = 0
    records: int = 0


@cache
def _rules() -> dict:
    return yaml.safe_load((Path(__file__).parent / "disclosure.yaml").read_text())


def field_category(name: str) -> str | None:
    return next((c["category"] for c in _rules()["categories"] if re.search(c["fields"], name)), None)


def legal_basis(layout: str) -> str:
    return _rules()["legal_basis"].get(layout) or _rules()["default_legal_basis"].format(layout=layout)


def _person_records(layout: Layout) -> list[Record]:
    return [r for r in layout.records if any(f.pii == "ssn" for f in r.fields)]


def _categories_expr(frame: pl.DataFrame) -> pl.Expr:
    """Per row, the sorted categories of the fields that hold a value (vectorised, one expr per category)."""
    by_category: dict[str, list[str]] = {}
    for column in frame.columns:
        if (category := field_category(column)) is not None:
            by_category.setdefault(category, []).append(column)
    flags = [pl.when(pl.any_horizontal([pl.col(c).is_not_null() for c in cols])).then(pl.lit(cat))
             for cat, cols in sorted(by_category.items())]
    return pl.concat_list(flags).list.drop_nulls() if flags else pl.lit([], dtype=pl.List(pl.Utf8))


def _record_disclosures(path: Path, layout: Layout, record: Record) -> pl.DataFrame:
    frame = decode_file(path, layout, record.id)
    ssn_cols = [f.name for f in record.fields if f.pii == "ssn" and f.name in frame.columns]
    member = pl.col("member_id") if "member_id" in frame.columns else pl.lit(None, dtype=pl.Utf8)
    return frame.select(
        pl.lit(record.id).alias("record_type"), pl.col("line_no"),
        pl.coalesce([pl.col(c) for c in ssn_cols]).alias("person_key"), member.alias("member_id"),
        _categories_expr(frame.drop("line_no", "record_id", strict=False)).alias("categories"),
    ).filter(pl.col("person_key").is_not_null())


def file_disclosures(path: Path, layout_name: str) -> pl.DataFrame:
    """Every record of one outbound file that carries a person's data, with its categories."""
    layout = load_layout(layout_name)
    parts = [_record_disclosures(path, layout, r) for r in _person_records(layout)]
    return pl.concat(parts) if parts else pl.DataFrame(schema={k: v for k, v in COLUMNS.items()
                                                              if k in {"record_type", "line_no", "person_key",
                                                                       "member_id", "categories"}})


def log_cycle_disclosures(con: duckdb.DuckDBPyConnection, home: Path, cycle_id: str) -> DisclosureResult:
    """Append the disclosures of every outbound file of the cycle not yet in the log."""
    logged = {r[0] for r in con.execute("SELECT DISTINCT recipient || '/' || file_name FROM disclosures "
                                        "WHERE cycle_id = ?", [cycle_id]).fetchall()}
    result = DisclosureResult()
    for manifest in sorted((home / "outbound").glob(f"*/{cycle_id}/manifest.json")):
        recipient = manifest.parent.parent.name
        for entry in json.loads(manifest.read_text())["files"]:
            if f"{recipient}/{entry['name']}" in logged:
                continue
            rows = file_disclosures(manifest.parent / entry["name"], entry["layout"]).select(
                pl.lit(cycle_id).alias("cycle_id"), pl.lit(recipient).alias("recipient"),
                pl.lit(entry["name"]).alias("file_name"), pl.lit(entry["layout"]).alias("layout"), pl.all(),
                pl.lit(legal_basis(entry["layout"])).alias("legal_basis"))
            with transaction(con):
                insert_frame(con, "disclosures", rows.select(list(COLUMNS)))
            result.files += 1
            result.records += rows.height
    return result


def disclosures_of(con: duckdb.DuckDBPyConnection, ssn: str | None = None, member_id: str | None = None,
                   recipient: str | None = None) -> pl.DataFrame:
    """Who received this person's data, when: the log filtered by person and/or recipient."""
    where, params = ["TRUE"], []
    for column, value in (("person_key", ssn), ("member_id", member_id), ("recipient", recipient)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    return con.execute(f"""SELECT d.cycle_id, c.as_of, d.recipient, d.file_name, d.record_type, d.person_key,
            d.member_id, array_to_string(d.categories, ',') AS categories, d.legal_basis
        FROM disclosures d LEFT JOIN cycles c USING (cycle_id) WHERE {' AND '.join(where)}
        ORDER BY d.cycle_id, d.recipient, d.file_name, d.line_no""", params).pl()
