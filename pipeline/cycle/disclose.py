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

from pipeline.files.decode import FILE, decode_many
from pipeline.files.layouts import Layout, Record, load_layout
from pipeline.safeguards.disclosure import COLUMNS, categories_expr, legal_basis
from pipeline.store import insert_frame, transaction


@dataclass
class DisclosureResult:
    files: int = 0
    records: int = 0


def _person_records(layout: Layout) -> list[Record]:
    return [r for r in layout.records if any(f.pii == "ssn" for f in r.fields)]


def _record_disclosures(frame: pl.DataFrame, record: Record) -> pl.DataFrame:
    ssn_cols = [f.name for f in record.fields if f.pii == "ssn" and f.name in frame.columns]
    member = pl.col("member_id") if "member_id" in frame.columns else pl.lit(None, dtype=pl.Utf8)
    return frame.select(
        FILE,
        pl.lit(record.id).alias("record_type"),
        pl.col("line_no"),
        pl.coalesce([pl.col(c) for c in ssn_cols]).alias("person_key"),
        member.alias("member_id"),
        categories_expr(frame.drop("line_no", "record_id", FILE, strict=False)).alias("categories"),
    ).filter(pl.col("person_key").is_not_null())


def layout_disclosures(paths: list[Path], layout_name: str) -> pl.DataFrame:
    """Every record carrying a person's data in outbound files of one layout (decoded all at once, not file by
    file: a cycle writes thousands of e-IWO files), with its categories; `file` indexes `paths`."""
    layout = load_layout(layout_name)
    parts = [_record_disclosures(decode_many(paths, layout, r.id), r) for r in _person_records(layout)]
    if not parts:
        keep = {"record_type", "line_no", "person_key", "member_id", "categories"}
        return pl.DataFrame(schema={FILE: pl.Int64, **{k: v for k, v in COLUMNS.items() if k in keep}})
    return pl.concat(parts).sort(FILE, maintain_order=True)


def file_disclosures(path: Path, layout_name: str) -> pl.DataFrame:
    """Every record of one outbound file that carries a person's data, with its categories."""
    return layout_disclosures([path], layout_name).drop(FILE)


def _cycle_files(home: Path, cycle_id: str, logged: set[str]) -> pl.DataFrame:
    """The cycle's outbound files not yet in the log, in manifest order: recipient, file_name, layout, path."""
    rows = [
        (manifest.parent.parent.name, entry["name"], entry["layout"], str(manifest.parent / entry["name"]))
        for manifest in sorted((home / "outbound").glob(f"*/{cycle_id}/manifest.json"))
        for entry in json.loads(manifest.read_text())["files"]
        if f"{manifest.parent.parent.name}/{entry['name']}" not in logged
    ]
    return pl.DataFrame(rows, schema=["recipient", "file_name", "layout", "path"], orient="row")


def log_cycle_disclosures(con: duckdb.DuckDBPyConnection, home: Path, cycle_id: str) -> DisclosureResult:
    """Append the disclosures of every outbound file of the cycle not yet in the log (one transaction)."""
    logged = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT recipient || '/' || file_name FROM disclosures WHERE cycle_id = ?", [cycle_id]
        ).fetchall()
    }
    files = _cycle_files(home, cycle_id, logged).with_row_index("order")
    frames = []
    for (layout,), group in files.group_by("layout", maintain_order=True):
        rows = layout_disclosures([Path(p) for p in group["path"]], layout)
        if rows.height:
            meta = group.select("order", "recipient", "file_name", "layout").with_row_index(FILE)
            frames.append(rows.join(meta.with_columns(pl.col(FILE).cast(pl.Int64)), on=FILE, how="left"))
    result = DisclosureResult(files=files.height)
    if frames:
        rows = pl.concat(frames, how="vertical_relaxed").sort("order", maintain_order=True)
        bases = {name: legal_basis(name) for name in rows["layout"].unique()}
        rows = rows.with_columns(
            pl.lit(cycle_id).alias("cycle_id"), pl.col("layout").replace_strict(bases).alias("legal_basis")
        )
        result.records = rows.height
        with transaction(con):
            insert_frame(con, "disclosures", rows.select(list(COLUMNS)))
    return result
