"""The case financial summary (layout `case_financial_csv`) as a store table for the caseload reports.

The cycle validates and ledgers CASEFIN files but (so far) loads their rows into no table. Until it
does, the report builder loads them itself: for every ledger row with layout `case_financial_csv`,
status `loaded`, whose rows are not yet in `case_financial`, it re-validates the archived original
(archive/<cycle>/<submitter>/<file>) with `pipeline.validate.validate_file` and appends the accepted
rows. Idempotent (keyed by file_id) and one transaction per file. When the cycle loads the table itself
(same name, same columns) this module finds nothing left to do.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipeline.layouts import load_layout
from pipeline.store import insert_frame, transaction
from pipeline.validate import validate_file

LAYOUT = "case_financial_csv"
TABLE = "case_financial"
DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, state VARCHAR,
    case_id VARCHAR, member_id VARCHAR, ncp_ssn VARCHAR, ncp_last_name VARCHAR, ncp_first_name VARCHAR,
    case_type VARCHAR, monthly_obligation BIGINT, arrears BIGINT, last_payment_date DATE,
    last_payment_amount BIGINT, as_of_date DATE)"""


def pending_files(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str, str]]:
    """(file_id, cycle_id, submitter, file_name) of loaded CASEFIN files whose rows are not in the table."""
    return con.execute(f"""SELECT file_id, cycle_id, submitter, file_name FROM file_ledger
        WHERE layout = ? AND status = 'loaded'
          AND file_id NOT IN (SELECT DISTINCT file_id FROM {TABLE} WHERE file_id IS NOT NULL)
        ORDER BY file_id""", [LAYOUT]).fetchall()


def _load_one(con: duckdb.DuckDBPyConnection, path: Path, file_id: int, cycle_id: str, submitter: str) -> int:
    parts: list[pl.DataFrame] = []
    result = validate_file(path, load_layout(LAYOUT), sink=lambda _rid, df: parts.append(df))
    if result.file_status == "rejected" or not parts:
        return 0
    rows = pl.concat(parts, how="diagonal_relaxed").with_columns(
        pl.lit(cycle_id).alias("cycle_id"), pl.lit(file_id, dtype=pl.Int32).alias("file_id"))
    # a state may only report its own cases: rows naming another state are not loaded
    rows = rows.filter(pl.col("state") == submitter)
    with transaction(con):
        return insert_frame(con, TABLE, rows)


def ensure_case_financial(con: duckdb.DuckDBPyConnection, home: Path) -> dict:
    """Create the table if needed and load archived CASEFIN files not yet in it. Returns a short summary."""
    con.execute(DDL)
    loaded, missing = 0, []
    for file_id, cycle_id, submitter, name in pending_files(con):
        path = Path(home) / "archive" / cycle_id / submitter / name
        if not path.is_file():
            missing.append(f"{cycle_id}/{submitter}/{name}")
            continue
        loaded += _load_one(con, path, file_id, cycle_id, submitter)
    return {"rows_loaded": loaded, "files_missing": missing}
