"""The early-intervention program (Oklahoma's ASAP) run as a program, once per cycle, for every state with
a settings file (`asap_settings.py`).

1. Who is due a letter: noncustodial parents at least 60 days in arrears on the state's latest case
   financial snapshot (the rule, first in first out, is the SQL fragment `_ncp_delinquency` in
   reports/caseload.sql, shared with the reports), minus parents
   - mailed a letter by the state in the last `resend_after_days`,
   - who promised to pay, agreed a plan or disputed the debt in the last `hold_after_contact_days`,
   - listed "no address" in the last `resend_after_days` and still without a usable address,
   - whom the SSA master says are deceased.
2. Where to: the best usable address (`asap_address.py`: most recent complete address from the W-4, UI,
   the state's offset file, an insurance claim or a bank account; never a family-violence-protected one,
   never one a letter already came back from).
3. How many: the state's `weekly_letters` per week since the previous cycle (1 to 5 weeks), spread over
   those weeks (mail dates as_of, +7, +14 ...): a steady number each week, as the program advises. Parents
   past the quota wait for the next cycle (backlog). Priority: the most recent delinquency first (the
   program intervenes early), then the larger debt.
4. Parents without a usable address are listed "no address, locate requested" (no quota: no calls follow)
   and, like every RETURNED contact outcome, get a locate request queued for the next cycle
   (`asap_locate_queue`; the FCR stage of that cycle turns it into a locate request the NDNH stage answers,
   and the address search of that cycle looks at every source again).

Store: `asap_letters` (one row per letter, with what it says), `asap_locate_queue`, `asap_cycles` (per
state and cycle: delinquent, on hold, eligible, mailed, no address, backlog). The caller owns the
transaction (the enforcement stage commits it with its marker).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import polars as pl

from pipeline.enforcement.asap_address import best_addresses
from pipeline.enforcement.asap_settings import StateSettings
from reports import metrics

HOLD_OUTCOMES = ("PROMISE", "PLAN", "DISPUTE")
MAX_WEEKS = 5


@dataclass
class AsapResult:
    delinquent: int = 0
    eligible: int = 0
    mailed: int = 0
    no_address: int = 0
    backlog: int = 0
    returned_mail: int = 0
    locates_queued: int = 0
    states_without_settings: list[str] = field(default_factory=list)


def _settings_frame(settings: dict[str, StateSettings]) -> pl.DataFrame:
    rows = [s.__dict__ for s in settings.values()]
    schema = {
        k: (pl.Int32 if k in ("weekly_letters", "resend_after_days", "hold_after_contact_days") else pl.Utf8)
        for k in StateSettings.__dataclass_fields__
    }
    return pl.DataFrame(rows, schema=schema)


def _weeks(con: duckdb.DuckDBPyConnection, cycle_id: str, as_of: date) -> int:
    prev = con.execute("SELECT max(as_of) FROM cycles WHERE cycle_id < ?", [cycle_id]).fetchone()[0]
    if prev is None:
        return 1
    return max(1, min(MAX_WEEKS, round((as_of - prev).days / 7)))


def _candidates(con: duckdb.DuckDBPyConnection, cycle_id: str, as_of: date) -> None:
    """Temp table asap_ncps: the delinquent parents of the configured states, with why any is on hold."""
    delinquency = metrics.query("_ncp_delinquency").sql
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE asap_ncps AS
        WITH d AS ({delinquency}),
        fcr AS (SELECT state, member_id, min(verified_ssn) AS verified_ssn FROM fcr_persons
                WHERE status = 'active' AND participant_type IN ('NP', 'PF') GROUP BY ALL)
        SELECT d.*, coalesce(fcr.verified_ssn, d.ncp_ssn) AS ssn, cfg.resend_after_days,
            CASE WHEN EXISTS (SELECT 1 FROM asap_letters l WHERE l.state = d.state AND l.member_id = d.member_id
                              AND l.status = 'mailed' AND l.mail_date > $as_of - cfg.resend_after_days)
                     THEN 'lettered'
                 WHEN EXISTS (SELECT 1 FROM contact_outcomes o WHERE o.state = d.state AND o.member_id = d.member_id
                              AND o.outcome IN {HOLD_OUTCOMES} AND o.contact_date <= $as_of
                              AND o.contact_date > $as_of - cfg.hold_after_contact_days AND o.cycle_id <= $cycle)
                     THEN 'contact'
                 WHEN EXISTS (SELECT 1 FROM ssa_current m WHERE m.ssn = coalesce(fcr.verified_ssn, d.ncp_ssn)
                              AND m.date_of_death IS NOT NULL) THEN 'deceased'
            END AS hold,
            EXISTS (SELECT 1 FROM asap_letters l WHERE l.state = d.state AND l.member_id = d.member_id
                    AND l.status = 'no_address' AND l.mail_date > $as_of - cfg.resend_after_days) AS listed_no_address
        FROM d JOIN asap_cfg cfg USING (state) LEFT JOIN fcr USING (state, member_id)
        WHERE d.delinquent""",
        {"cycle": cycle_id, "as_of": as_of},
    )


def _select(con: duckdb.DuckDBPyConnection, cycle_id: str, as_of: date, weeks: int) -> None:
    """Temp table asap_pick: the letters of this cycle (mailed within the quota, or no address)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE asap_pick AS
        WITH e AS (
            SELECT n.*, b.address_line_1, b.address_line_2, b.city, b.addr_state, b.zip, b.address_source,
                   b.address_date, b.address_key, b.reason, b.address_key IS NOT NULL AS addressed
            FROM asap_ncps n JOIN asap_best b USING (state, member_id)
            WHERE n.hold IS NULL AND (b.address_key IS NOT NULL OR NOT n.listed_no_address)
        ),
        r AS (
            SELECT e.*, cfg.weekly_letters, cfg.agency, cfg.office_name, cfg.office_address, cfg.office_city_line,
                   cfg.toll_free, cfg.hours,
                   row_number() OVER (PARTITION BY e.state, e.addressed
                                      ORDER BY e.days_delinquent NULLS LAST, e.arrears_cents DESC, e.member_id) AS rn
            FROM e JOIN asap_cfg cfg USING (state)
        )
        SELECT *, CASE WHEN addressed THEN 'mailed' ELSE 'no_address' END AS status,
               CASE WHEN addressed THEN CAST($as_of + CAST(7 * ((rn - 1) // greatest(weekly_letters, 1)) AS INTEGER) AS DATE)
                    ELSE $as_of END AS mail_date
        FROM r WHERE NOT addressed OR rn <= weekly_letters * $weeks""",
        {"as_of": as_of, "weeks": weeks},
    )
    con.execute(
        """INSERT INTO asap_letters BY NAME
        SELECT state || '-' || $cycle || '-' || lpad(CAST(row_number() OVER (PARTITION BY state
                   ORDER BY status, rn, member_id) AS VARCHAR), 6, '0') AS letter_id,
               $cycle AS cycle_id, state, member_id, case_ids, ssn AS ncp_ssn, first_name, last_name,
               arrears_cents AS arrears, days_delinquent, oldest_unpaid_due, last_payment_date, passport_risk,
               CAST(rn AS INTEGER) AS priority, status, reason, address_line_1, address_line_2, city, addr_state, zip,
               address_source, address_date, address_key, mail_date,
               CASE WHEN status = 'mailed' THEN CAST(mail_date + 10 AS DATE) END AS respond_by,
               agency, office_name, office_address, office_city_line, toll_free, hours AS office_hours
        FROM asap_pick""",
        {"cycle": cycle_id},
    )


def _queue_locates(con: duckdb.DuckDBPyConnection, cycle_id: str) -> tuple[int, int]:
    """Queue a locate request for the next cycle: every 'no address' letter and every returned letter."""
    returned = con.execute(
        "SELECT count(*) FROM contact_outcomes WHERE cycle_id = ? AND outcome = 'RETURNED'", [cycle_id]
    ).fetchone()[0]
    con.execute(
        """INSERT INTO asap_locate_queue
        SELECT state, case_id, member_id, min(reason), ?, NULL FROM (
            SELECT l.state, p.first_case_id AS case_id, l.member_id, 'no address' AS reason
            FROM asap_letters l JOIN asap_pick p USING (state, member_id)
            WHERE l.cycle_id = ? AND l.status = 'no_address'
            UNION ALL
            SELECT state, case_id, member_id, 'returned mail' FROM contact_outcomes
            WHERE cycle_id = ? AND outcome = 'RETURNED')
        GROUP BY state, case_id, member_id
        ON CONFLICT DO NOTHING""",
        [cycle_id, cycle_id, cycle_id],
    )
    queued = con.execute("SELECT count(*) FROM asap_locate_queue WHERE queued_cycle = ?", [cycle_id]).fetchone()[0]
    return int(returned), int(queued)


def _record_cycle(con: duckdb.DuckDBPyConnection, cycle_id: str, weeks: int) -> None:
    con.execute(
        """INSERT INTO asap_cycles
        SELECT $cycle, cfg.state, cfg.weekly_letters, $weeks,
            (SELECT count(*) FROM asap_ncps n WHERE n.state = cfg.state),
            (SELECT count(*) FROM asap_ncps n WHERE n.state = cfg.state AND n.hold IS NOT NULL),
            (SELECT count(*) FROM asap_ncps n JOIN asap_best b USING (state, member_id)
             WHERE n.state = cfg.state AND n.hold IS NULL AND (b.address_key IS NOT NULL OR NOT n.listed_no_address)),
            (SELECT count(*) FROM asap_letters l WHERE l.cycle_id = $cycle AND l.state = cfg.state
             AND l.status = 'mailed'),
            (SELECT count(*) FROM asap_letters l WHERE l.cycle_id = $cycle AND l.state = cfg.state
             AND l.status = 'no_address'),
            (SELECT count(*) FROM asap_ncps n JOIN asap_best b USING (state, member_id)
             WHERE n.state = cfg.state AND n.hold IS NULL AND b.address_key IS NOT NULL)
              - (SELECT count(*) FROM asap_letters l WHERE l.cycle_id = $cycle AND l.state = cfg.state
                 AND l.status = 'mailed'),
            (SELECT count(*) FROM contact_outcomes o WHERE o.cycle_id = $cycle AND o.state = cfg.state
             AND o.outcome = 'RETURNED'),
            (SELECT count(*) FROM asap_locate_queue q WHERE q.queued_cycle = $cycle AND q.state = cfg.state)
        FROM asap_cfg cfg""",
        {"cycle": cycle_id, "weeks": weeks},
    )


def run_asap(
    con: duckdb.DuckDBPyConnection, cycle_id: str, as_of: date, settings: dict[str, StateSettings]
) -> AsapResult:
    """This cycle's letters, holds and locate requests (see the module docstring)."""
    cfg = _settings_frame(settings)  # noqa: F841 - read by name in SQL
    con.execute("CREATE OR REPLACE TEMP TABLE asap_cfg AS SELECT * FROM cfg")
    states = [r[0] for r in con.execute("SELECT DISTINCT state FROM case_financial ORDER BY 1").fetchall()]
    weeks = _weeks(con, cycle_id, as_of)
    _candidates(con, cycle_id, as_of)
    best_addresses(con, cycle_id, as_of)
    _select(con, cycle_id, as_of, weeks)
    returned, queued = _queue_locates(con, cycle_id)
    _record_cycle(con, cycle_id, weeks)
    row = con.execute(
        """SELECT coalesce(sum(delinquent), 0), coalesce(sum(eligible), 0), coalesce(sum(mailed), 0),
                  coalesce(sum(no_address), 0), coalesce(sum(backlog), 0) FROM asap_cycles WHERE cycle_id = ?""",
        [cycle_id],
    ).fetchone()
    return AsapResult(
        *(int(v) for v in row),
        returned_mail=returned,
        locates_queued=queued,
        states_without_settings=[s for s in states if s not in settings],
    )


def request_queued_locates(con: duckdb.DuckDBPyConnection, cycle_id: str) -> int:
    """FCR stage of the next cycle: the queued ASAP locates become this cycle's locate requests (answered by
    the NDNH stage like a state's own action-L record). The caller owns the transaction."""
    con.execute(
        """INSERT INTO locate_requests
        SELECT ?, NULL, -row_number() OVER (ORDER BY q.state, q.case_id, q.member_id), q.state, q.case_id,
               q.member_id, p.participant_type, p.verified_ssn, p.validity_code
        FROM (SELECT DISTINCT state, case_id, member_id FROM asap_locate_queue
              WHERE requested_cycle IS NULL AND queued_cycle < ?) q
        JOIN fcr_persons p USING (state, case_id, member_id) WHERE p.status = 'active'""",
        [cycle_id, cycle_id],
    )
    n = con.execute(
        "SELECT count(*) FROM locate_requests WHERE cycle_id = ? AND file_id IS NULL", [cycle_id]
    ).fetchone()[0]
    con.execute(
        "UPDATE asap_locate_queue SET requested_cycle = ? WHERE requested_cycle IS NULL AND queued_cycle < ?",
        [cycle_id, cycle_id],
    )
    return int(n)
