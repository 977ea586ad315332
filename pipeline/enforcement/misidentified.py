"""Misidentified participants: a state's list of (member ID, SSN) pairs whose SSN is not the member's.

The FCR verification (pipeline/cycle/ssnverify.py via pipeline/cycle/fcr.py) reads the `misidentified` table and never
assigns a listed SSN to that member. Changes come from `fpls misidentified add|remove` or from an inbound
`misidentified_csv` file (state = the submitting state). Several SSNs per member are allowed. Every change
is written to `misidentified_audit` (append-only: only INSERTs, `seq` increases).

So the change is honoured by the next verification, adding a pair also clears that member's verified SSN
(and validity code) where it is the listed SSN: the member is then re-verified by the next cycle's FCR
stage (which re-verifies every active person without a verified SSN) with the SSN forbidden.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import duckdb
import polars as pl

from pipeline.enforcement.common import next_seq
from pipeline.store import frame, insert_frame

CHANGE = {
    "state": pl.Utf8,
    "member_id": pl.Utf8,
    "ssn": pl.Utf8,
    "action": pl.Utf8,
    "reason": pl.Utf8,
    "file_id": pl.Int32,
    "line_no": pl.Int64,
}


def apply_changes(
    con: duckdb.DuckDBPyConnection,
    changes: pl.DataFrame,
    source: str,
    cycle_id: str | None = None,
    operator: str | None = None,
    recorded_at: datetime | None = None,
) -> dict:
    """Apply add (A) / remove (D) rows in order (the last action per pair wins) and audit each row.
    The caller owns the transaction."""
    rows = changes.select(
        [pl.col(c).cast(d) if c in changes.columns else pl.lit(None, d).alias(c) for c, d in CHANGE.items()]
    ).with_row_index("_order")
    seq = next_seq(con, "misidentified_audit")
    audit = rows.select(  # noqa: F841 - used by name below
        (pl.col("_order").cast(pl.Int64) + seq + 1).alias("seq"),
        pl.lit(cycle_id, pl.Utf8).alias("cycle_id"),
        pl.when(pl.col("action") == "A").then(pl.lit("add")).otherwise(pl.lit("remove")).alias("action"),
        "state",
        "member_id",
        "ssn",
        pl.lit(source).alias("source"),
        "file_id",
        "line_no",
        pl.lit(operator, pl.Utf8).alias("operator"),
        "reason",
        pl.lit(recorded_at, pl.Datetime("us")).alias("recorded_at"),
    )
    insert_frame(con, "misidentified_audit", audit)
    mis_last = rows.sort("_order").unique(["state", "member_id", "ssn"], keep="last", maintain_order=True)  # noqa: F841
    con.execute("""DELETE FROM misidentified m USING mis_last l
        WHERE m.state = l.state AND m.member_id = l.member_id AND m.ssn = l.ssn""")
    con.execute("INSERT INTO misidentified SELECT file_id, state, member_id, ssn FROM mis_last WHERE action = 'A'")
    cleared = con.execute("""UPDATE fcr_persons SET verified_ssn = NULL, validity_code = NULL,
            evidence = '{"rule":"misidentified_list","reverify":true}'
        FROM mis_last l WHERE l.action = 'A' AND fcr_persons.state = l.state AND fcr_persons.member_id = l.member_id
          AND fcr_persons.verified_ssn = l.ssn""").fetchone()[0]
    return {
        "changes": rows.height,
        "added": int((mis_last["action"] == "A").sum()),
        "removed": int((mis_last["action"] == "D").sum()),
        "reverify": int(cleared or 0),
    }


def change(
    con: duckdb.DuckDBPyConnection,
    state: str,
    member_id: str,
    ssn: str,
    action: str,
    reason: str | None,
    operator: str | None = None,
) -> dict:
    """One operator change (add / remove), in its own transaction."""
    row = pl.DataFrame(
        {"state": [state], "member_id": [member_id], "ssn": [ssn], "action": [action], "reason": [reason]}
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        out = apply_changes(con, row, "operator", None, operator or getpass.getuser(), now)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return out


def listing(con: duckdb.DuckDBPyConnection, state: str | None = None, member_id: str | None = None) -> pl.DataFrame:
    return frame(
        con,
        """SELECT DISTINCT state, member_id, ssn FROM misidentified
        WHERE (? IS NULL OR state = ?) AND (? IS NULL OR member_id = ?) ORDER BY state, member_id, ssn""",
        [state, state, member_id, member_id],
    )


def audit(con: duckdb.DuckDBPyConnection, state: str | None = None) -> pl.DataFrame:
    return frame(con, "SELECT * FROM misidentified_audit WHERE (? IS NULL OR state = ?) ORDER BY seq", [state, state])
