"""Passport denial: certify a debtor to the State Department when the state's arrears for the person
exceed $2,500, release when they drop to $2,500 or less; operator emergency release (audited). A release
because PAS exclusions took the counted arrears to $2,500 or less tells the State Department so ('PAS
EXCLUSION') with the person's whole arrears, not "at or below $2,500".

Arrears for (state, SSN) = sum of the whole-dollar arrearage of the state's active registry cases for the
SSN, TANF and non-TANF together, not counting cases that carry the PAS exclusion (a case excluding passport
denial does not count towards it). Exactly: $2,500 is not certified, $2,501 is.

`passport_status` holds the current state per (state, SSN): certified | released | emergency_released.
`passport_actions` is append-only (only INSERTs; `seq` increases): every certification and release, the
cycle or operator that made it, and why. An emergency release holds until the state sends a new accepted
transaction for the person in a later cycle; then the threshold rule applies again.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl

from pipeline.enforcement.common import has_code, next_seq
from pipeline.store import frame

THRESHOLD_DOLLARS = 2500


@dataclass
class PassportResult:
    certified: int = 0
    released: int = 0
    total_certified: int = 0


def arrears_sql() -> str:
    """Per (state, SSN): the arrears that count for passport denial (cases without the PAS exclusion) and the
    arrears of every active case (what the State Department is told when PAS exclusions cause a release)."""
    return f"""SELECT state, ssn, sum(arrearage) FILTER (WHERE NOT {has_code("exclusions", "PAS")}) AS arrears,
        sum(arrearage) AS total_arrears FROM debtors WHERE status = 'active' GROUP BY state, ssn"""


def run_passport(con: duckdb.DuckDBPyConnection, cycle: str) -> PassportResult:
    """Certify / release by the threshold rule (the caller owns the transaction)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE pp AS
        WITH a AS ({arrears_sql()}),
        touched AS (SELECT DISTINCT submitting_state AS state, ssn FROM offset_results
                    WHERE cycle_id = ? AND status = 'accepted'),
        keys AS (SELECT state, ssn FROM a UNION SELECT state, ssn FROM passport_status)
        SELECT k.state, k.ssn, coalesce(a.arrears, 0) AS arrears, coalesce(a.total_arrears, 0) AS total_arrears,
            coalesce(a.total_arrears, 0) > {THRESHOLD_DOLLARS} AS pas_release, s.status,
            CASE WHEN coalesce(a.arrears, 0) > {THRESHOLD_DOLLARS}
                      AND (s.status IS NULL OR s.status = 'released'
                           OR (s.status = 'emergency_released' AND t.ssn IS NOT NULL)) THEN 'certify'
                 WHEN coalesce(a.arrears, 0) <= {THRESHOLD_DOLLARS} AND s.status = 'certified' THEN 'release' END AS action
        FROM keys k LEFT JOIN a USING (state, ssn) LEFT JOIN passport_status s USING (state, ssn)
        LEFT JOIN touched t USING (state, ssn)""",
        [cycle],
    )
    seq = next_seq(con, "passport_actions")
    con.execute(
        f"""INSERT INTO passport_actions SELECT {seq} + row_number() OVER (ORDER BY state, ssn), ?, state, ssn,
            action, CASE WHEN action = 'release' AND pas_release THEN total_arrears ELSE arrears END,
            CASE WHEN action = 'certify' THEN 'ARREARS OVER {THRESHOLD_DOLLARS}'
                 WHEN pas_release THEN 'PAS EXCLUSION' ELSE 'ARREARS AT OR BELOW {THRESHOLD_DOLLARS}' END,
            'cycle', NULL, NULL
        FROM pp WHERE action IS NOT NULL""",
        [cycle],
    )
    con.execute(
        """INSERT OR REPLACE INTO passport_status
        SELECT p.state, p.ssn, CASE p.action WHEN 'certify' THEN 'certified' ELSE 'released' END, p.arrears,
            CASE p.action WHEN 'certify' THEN ? ELSE s.certified_cycle END,
            CASE p.action WHEN 'release' THEN ? ELSE NULL END,
            CASE WHEN p.action = 'certify' THEN 'threshold' WHEN p.pas_release THEN 'pas_exclusion'
                 ELSE 'arrears_at_or_below_threshold' END
        FROM pp p LEFT JOIN passport_status s USING (state, ssn) WHERE p.action IS NOT NULL""",
        [cycle, cycle],
    )
    con.execute("""UPDATE passport_status SET arrears = pp.arrears FROM pp
        WHERE pp.action IS NULL AND passport_status.state = pp.state AND passport_status.ssn = pp.ssn""")
    row = con.execute(
        """SELECT count(*) FILTER (WHERE action = 'certify'), count(*) FILTER (WHERE action = 'release')
        FROM passport_actions WHERE cycle_id = ? AND source = 'cycle'""",
        [cycle],
    ).fetchone()
    total = con.execute("SELECT count(*) FROM passport_status WHERE status = 'certified'").fetchone()[0]
    return PassportResult(int(row[0]), int(row[1]), int(total))


def emergency_release(
    con: duckdb.DuckDBPyConnection, state: str, ssn: str, reason: str, operator: str | None = None
) -> dict:
    """Release a certified passport now (operator action, audited). Raises LookupError if not certified."""
    row = con.execute(
        "SELECT status, arrears FROM passport_status WHERE state = ? AND ssn = ?", [state, ssn]
    ).fetchone()
    if row is None or row[0] != "certified":
        raise LookupError(f"no certified passport denial for state {state} and that SSN")
    operator = operator or getpass.getuser()
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        seq = next_seq(con, "passport_actions") + 1
        con.execute(
            """INSERT INTO passport_actions VALUES (?, NULL, ?, ?, 'emergency_release', ?, ?, 'operator', ?, ?)""",
            [seq, state, ssn, row[1], reason, operator, now],
        )
        con.execute(
            """UPDATE passport_status SET status = 'emergency_released', reason = ?, released_cycle = NULL
            WHERE state = ? AND ssn = ?""",
            [f"emergency: {reason}", state, ssn],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"seq": seq, "state": state, "action": "emergency_release", "arrears": row[1], "operator": operator}


def passport_blocks(con: duckdb.DuckDBPyConnection, cycle: str, as_of) -> list[tuple[str, pl.DataFrame]]:
    """The cycle's certifications (C) and releases (R) for the State Department file, plus the operator
    emergency releases made since the previous cycle."""
    rows = frame(
        con,
        """SELECT CASE a.action WHEN 'certify' THEN 'C' ELSE 'R' END AS action, a.state, a.ssn,
            d.last_name, d.first_name, a.arrears, upper(left(a.reason, 30)) AS reason, ? AS cycle_id
        FROM passport_actions a LEFT JOIN (SELECT state, ssn, first(last_name ORDER BY case_type) AS last_name,
            first(first_name ORDER BY case_type) AS first_name FROM debtors GROUP BY state, ssn) d USING (state, ssn)
        WHERE (a.cycle_id = ? AND a.source = 'cycle') OR (a.action = 'emergency_release' AND a.seq > (
            SELECT coalesce(max(seq), 0) FROM passport_actions WHERE cycle_id IS NOT NULL AND cycle_id < ?))
        ORDER BY a.seq""",
        [cycle, cycle, cycle],
    )
    head = pl.DataFrame({"date_stamp": [as_of], "cycle_id": [cycle]})
    return [("PH", head), ("PC", rows), ("PT", pl.DataFrame({"record_count": [rows.height]}))]
