"""FCR records that validation rejected get their own REJCT acks (FD for a case, FS for a person) with an error
code, not only a line in the file's ACK: the state sees which case or member failed and why.

At load, the rejected FC / FP lines of an FCR file are read once more (only when there are any, bounded line
length) and their identifying fields kept in `fcr_rejected_input`; the FCR stage writes their acks.
Error codes: `TEnnn`, nnn = the 1-based number of the first failing field in the record's layout (`TE000`: the
line itself, e.g. its length); the ACK's error records hold the validation code and message.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipeline.files.layouts import Layout
from pipeline.files.lines import LINE_NO, iter_line_batches
from pipeline.files.read import max_line_bytes, slice_fields
from pipeline.store import insert_frame

KEPT = ("action_type", "case_id", "member_id", "participant_type", "family_violence", "sex", "ssn")
KEPT += ("first_name", "middle_name", "last_name")


def error_code(layout: Layout, record_type: str, field: str | None) -> str:
    names = [f.name for f in layout.record(record_type).fields]
    return f"TE{names.index(field) + 1:03d}" if field in names else "TE000"


def keep_rejected(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout, rejects: pl.DataFrame, ids: dict) -> int:
    """Store the rejected FC / FP records of one loaded FCR file. ids: cycle_id, file_id, state, batch_number."""
    bad = (
        rejects.filter(pl.col("record_type").is_in(["FC", "FP"]))
        .sort("line", "field", nulls_last=True)
        .unique("line", keep="first", maintain_order=True)
    )
    if bad.is_empty():
        return 0
    wanted = set(bad["line"].to_list())
    parts = []
    for batch in iter_line_batches(path, max_line=max_line_bytes(layout)):
        lines = batch.filter(pl.col(LINE_NO).is_in(wanted))
        for record_type in ("FC", "FP"):
            mine = lines.join(bad.filter(pl.col("record_type") == record_type), left_on=LINE_NO, right_on="line")
            if mine.height:
                cut = slice_fields(mine.select(LINE_NO, "line"), layout.record(record_type))
                codes = [error_code(layout, record_type, f) for f in mine["field"]]
                parts.append(
                    cut.select(LINE_NO, *[c for c in KEPT if c in cut.columns]).with_columns(
                        pl.lit(record_type).alias("record_type"), pl.Series("error_code", codes)
                    )
                )
    if not parts:
        return 0
    frame = pl.concat(parts, how="diagonal_relaxed")
    frame = frame.with_columns(
        *[pl.col(c).str.replace_all(r"[^\x20-\x7E]", "?") for c in KEPT if c in frame.columns],
        pl.lit(ids["cycle_id"]).alias("cycle_id"),
        pl.lit(ids["file_id"], dtype=pl.Int32).alias("file_id"),
        pl.lit(ids["state"]).alias("state"),
        pl.lit(ids.get("batch_number")).alias("batch_number"),
    )
    return insert_frame(con, "fcr_rejected_input", frame)


def write_reject_acks(con: duckdb.DuckDBPyConnection, cycle: str) -> None:
    """FD / FS REJCT acks of the cycle's rejected FC / FP records (the caller owns the transaction)."""
    con.execute(
        """INSERT INTO ack_fd BY NAME SELECT cycle_id, state, file_id, line_no AS source_line, action_type, case_id,
            batch_number, 'REJCT' AS ack_code, error_code AS error_code_1
        FROM fcr_rejected_input WHERE cycle_id = ? AND record_type = 'FC'""",
        [cycle],
    )
    con.execute(
        """INSERT INTO ack_fs BY NAME SELECT cycle_id, state, file_id, line_no AS source_line, action_type, case_id,
            participant_type, family_violence, member_id, sex, ssn AS submitted_ssn, first_name, middle_name,
            last_name, 'REJCT' AS ack_code, error_code AS error_code_1
        FROM fcr_rejected_input WHERE cycle_id = ? AND record_type = 'FP'""",
        [cycle],
    )
