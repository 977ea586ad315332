"""Disclose stage: log which recipient received which person's data, when, what and on what basis.

After the outbound writer and the exchanges: it reads the cycle's manifests and decodes every outbound
file through its layout, so the log records what the bytes really disclose (not what the code meant to
send), categorised by the disclosure policy (pipeline/safeguards/disclosure.py). Append-only: a rerun of
the same cycle adds nothing it already holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipeline.files.decode import decode_file
from pipeline.files.layouts import Layout, Record, load_layout
from pipeline.safeguards.disclosure import COLUMNS, categories_expr, legal_basis
from pipeline.store import insert_frame, transaction


@dataclass
class DisclosureResult:
    files: int = 0
    records: int = 0


def _person_records(layout: Layout) -> list[Record]:
    return [r for r in layout.records if any(f.pii == "ssn" for f in r.fields)]


def _record_disclosures(path: Path, layout: Layout, record: Record) -> pl.DataFrame:
    frame = decode_file(path, layout, record.id)
    ssn_cols = [f.name for f in record.fields if f.pii == "ssn" and f.name in frame.columns]
    member = pl.col("member_id") if "member_id" in frame.columns else pl.lit(None, dtype=pl.Utf8)
    return frame.select(
        pl.lit(record.id).alias("record_type"),
        pl.col("line_no"),
        pl.coalesce([pl.col(c) for c in ssn_cols]).alias("person_key"),
        member.alias("member_id"),
        categories_expr(frame.drop("line_no", "record_id", strict=False)).alias("categories"),
    ).filter(pl.col("person_key").is_not_null())


def file_disclosures(path: Path, layout_name: str) -> pl.DataFrame:
    """Every record of one outbound file that carries a person's data, with its categories."""
    layout = load_layout(layout_name)
    parts = [_record_disclosures(path, layout, r) for r in _person_records(layout)]
    return (
        pl.concat(parts)
        if parts
        else pl.DataFrame(
            schema={
                k: v
                for k, v in COLUMNS.items()
                if k in {"record_type", "line_no", "person_key", "member_id", "categories"}
            }
        )
    )


def log_cycle_disclosures(con: duckdb.DuckDBPyConnection, home: Path, cycle_id: str) -> DisclosureResult:
    """Append the disclosures of every outbound file of the cycle not yet in the log."""
    logged = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT recipient || '/' || file_name FROM disclosures WHERE cycle_id = ?", [cycle_id]
        ).fetchall()
    }
    result, frames = DisclosureResult(), []
    for manifest in sorted((home / "outbound").glob(f"*/{cycle_id}/manifest.json")):
        recipient = manifest.parent.parent.name
        for entry in json.loads(manifest.read_text())["files"]:
            if f"{recipient}/{entry['name']}" in logged:
                continue
            rows = file_disclosures(manifest.parent / entry["name"], entry["layout"]).select(
                pl.lit(cycle_id).alias("cycle_id"),
                pl.lit(recipient).alias("recipient"),
                pl.lit(entry["name"]).alias("file_name"),
                pl.lit(entry["layout"]).alias("layout"),
                pl.all(),
                pl.lit(legal_basis(entry["layout"])).alias("legal_basis"),
            )
            frames.append(rows.select(list(COLUMNS)))
            result.files += 1
            result.records += rows.height
    if frames:  # one transaction for the cycle: a commit per file cost ~20 ms each over thousands of e-IWO files
        with transaction(con):
            insert_frame(con, "disclosures", pl.concat(frames, how="vertical_relaxed"))
    return result
