"""NDNH stage: verify this cycle's W-4 / QW / UI records, match them to FCR persons, choose FN / FT facts.

Matching is by verified SSN across all states (DESIGN §8): type N new NDNH data hit a registered person;
type P a person verified this cycle (new, changed, or a HOLDS resolved) hit the last 12 months of NDNH
history; type L a locate request (H01 when nothing is found). A fact is one NDNH content (source, SSN,
employer, dates, amounts, address); the same fact goes to a state's member once, ever (responses_sent).
A person flagged FV by any other state gets the FN with address and employer withheld.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from pipeline.cycle.ndnhfast import FAST_TABLE, confirmed_keys, employer_references, slow_records, verify_fast
from pipeline.cycle.ssnverify import MasterRef, verify_ndnh
from pipeline.store import frame

FACT = (
    "md5(concat_ws('|', n.source, n.verified_ssn, n.employer_fein, n.hire_date, n.reporting_period, "
    "n.wage_amount, n.benefit_amount, n.address_line_1, n.zip))"
)


@dataclass
class NdnhResult:
    records: int = 0
    verified: int = 0
    unverified: int = 0
    matches: int = 0
    fn: int = 0
    ft: int = 0


def _verify(con: duckdb.DuckDBPyConnection, cycle: str, master: MasterRef, as_of: date) -> None:
    """Verify this cycle's records: the fast path in the store (`ndnhfast`), then the kernel and rules 2-7
    (`ndnhverify`) over the records it left; ndnh_vres (key, rule) for the matches' evidence."""
    fast = verify_fast(con, cycle, master.fast_reference())
    records = slow_records(con, cycle)
    if records.is_empty():
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE ndnh_vres AS SELECT ndnh_id AS key, 'exact_ssn' AS rule FROM {FAST_TABLE}"
        )
        return
    registered = frame(
        con,
        """SELECT DISTINCT verified_ssn, first_name, last_name, dob, additional_first_name_1,
            additional_last_name_1, additional_first_name_2, additional_last_name_2
        FROM fcr_persons WHERE status = 'active' AND verified_ssn IS NOT NULL ORDER BY ALL""",
    )
    confirmed = confirmed_keys(con, records.select(pl.col("ssn").alias("ssn_key")).unique()) if fast else None
    result = verify_ndnh(  # noqa: F841 - used by name in SQL
        records,
        master,
        registered,
        lambda feins: employer_references(con, cycle, as_of, feins),
        confirmed,
    )
    del records
    con.execute(
        """UPDATE ndnh SET verification = r.verification, verified_ssn = r.verified_ssn
        FROM result r WHERE ndnh.cycle_id = ? AND ndnh.ndnh_id = r.key""",
        [cycle],
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ndnh_vres AS SELECT ndnh_id AS key, 'exact_ssn' AS rule FROM {FAST_TABLE}
        UNION ALL SELECT key, rule FROM result WHERE rule IS NOT NULL"""
    )


FACT_COLUMNS = (
    "source, verified_ssn, employer_fein, hire_date, reporting_period, wage_amount, benefit_amount, address_line_1, zip"
)


def _candidates(con: duckdb.DuckDBPyConnection, cycle: str, as_of: date) -> None:
    """The hits (N, P, L) on the verified SSN, each fact's key computed for the hits only (not for every record of
    the last 12 months); the first hit per (state, member, fact) not sent before."""
    r_cols = ", ".join(f"r.{c.strip()}" for c in FACT_COLUMNS.split(","))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE cand AS
        WITH persons AS (SELECT state, case_id, member_id, verified_ssn, verified_cycle FROM fcr_persons
                         WHERE status = 'active' AND verified_ssn IS NOT NULL),
        recent AS (SELECT ndnh_id, cycle_id, {FACT_COLUMNS} FROM ndnh WHERE verification = 'V'
                   AND received > ?::DATE - INTERVAL 12 MONTH),
        hits AS (
          SELECT 'N' AS match_type, 3 AS prio, p.state, p.case_id, p.member_id, r.ndnh_id, {r_cols}
          FROM recent r JOIN persons p ON p.verified_ssn = r.verified_ssn WHERE r.cycle_id = ?
          UNION ALL
          SELECT 'P', 2, p.state, p.case_id, p.member_id, r.ndnh_id, {r_cols}
          FROM persons p JOIN recent r ON p.verified_ssn = r.verified_ssn WHERE p.verified_cycle = ?
          UNION ALL
          SELECT 'L', 1, l.state, l.case_id, l.member_id, r.ndnh_id, {r_cols}
          FROM locate_requests l JOIN recent r ON l.verified_ssn = r.verified_ssn WHERE l.cycle_id = ?),
        keyed AS (SELECT match_type, prio, state, case_id, member_id, ndnh_id, {FACT} AS fact_key, source FROM hits n)
        SELECT h.* FROM keyed h
        WHERE NOT EXISTS (SELECT 1 FROM responses_sent s WHERE s.recipient = h.state AND s.member_id = h.member_id
                          AND s.fact_key = h.fact_key AND s.record_type = 'FN')
        QUALIFY row_number() OVER (PARTITION BY h.state, h.member_id, h.fact_key
                                   ORDER BY h.prio, h.case_id, h.ndnh_id) = 1""",
        [as_of, cycle, cycle, cycle],
    )


NAME_IND = """CASE
    WHEN left(n.first_name, 1) = left(p.first_name, 1) AND left(n.last_name, 4) = left(p.last_name, 4) THEN '1'
    WHEN left(n.first_name, 1) = left(p.additional_first_name_1, 1)
         AND left(n.last_name, 4) = left(p.additional_last_name_1, 4) THEN '2'
    WHEN left(n.first_name, 1) = left(p.additional_first_name_2, 1)
         AND left(n.last_name, 4) = left(p.additional_last_name_2, 4) THEN '3' END"""


# Whom a match is about: the FCR's persons, and the people of this cycle's locate-only requests who are not on
# the FCR (a locate request is always answered, DESIGN §8: with NDNH data or H01).
PEOPLE_COLUMNS = """state, case_id, member_id, first_name, last_name, additional_first_name_1, additional_last_name_1,
    additional_first_name_2, additional_last_name_2"""
PEOPLE = f"""SELECT {PEOPLE_COLUMNS}, validity_code, evidence FROM fcr_persons
    UNION ALL SELECT {", ".join("i." + c.strip() for c in PEOPLE_COLUMNS.split(","))}, l.validity_code, NULL
    FROM locate_requests l JOIN fcr_person_input i ON i.file_id = l.file_id AND i.line_no = l.line_no
    WHERE l.cycle_id = ? AND NOT EXISTS (SELECT 1 FROM fcr_persons f WHERE f.state = l.state
          AND f.case_id = l.case_id AND f.member_id = l.member_id)"""


def _record_matches(con: duckdb.DuckDBPyConnection, cycle: str) -> None:
    con.execute(
        f"""INSERT INTO matches
        SELECT ?, c.state, c.case_id, c.member_id, c.match_type, c.source, c.ndnh_id, c.fact_key,
            'verified_ssn_exact', {NAME_IND},
            CASE WHEN EXISTS (SELECT 1 FROM fcr_persons f WHERE f.verified_ssn = n.verified_ssn AND f.status = 'active'
                              AND f.family_violence = 'FV' AND f.state <> c.state) THEN 'Y' END,
            json_object('rule', 'verified_ssn_exact', 'ndnh_verification', n.verification, 'ndnh_rule', vr.rule,
                        'fcr_validity', p.validity_code, 'fcr_evidence', p.evidence, 'name_indicator', {NAME_IND},
                        'ndnh_file_id', n.file_id, 'ndnh_line', n.line_no, 'probability', 1.0)
        FROM cand c JOIN ndnh n ON n.ndnh_id = c.ndnh_id LEFT JOIN ndnh_vres vr ON vr.key = n.ndnh_id
        JOIN ({PEOPLE}) p ON p.state = c.state AND p.case_id = c.case_id AND p.member_id = c.member_id""",
        [cycle, cycle],
    )
    # locate requests that found nothing new: H01
    con.execute(
        """INSERT INTO matches
        SELECT ?, l.state, l.case_id, l.member_id, 'L', 'H01', NULL, md5(concat_ws('|', 'H01', ?, l.file_id, l.line_no)),
            'locate_no_data', NULL, NULL, json_object('rule', 'locate_no_data', 'validity', l.validity_code)
        FROM locate_requests l WHERE l.cycle_id = ? AND NOT EXISTS (SELECT 1 FROM cand c WHERE c.match_type = 'L'
            AND c.state = l.state AND c.case_id = l.case_id AND c.member_id = l.member_id)""",
        [cycle, cycle, cycle],
    )
    con.execute(
        """INSERT INTO responses_sent SELECT m.cycle_id, m.state, 'FN', m.member_id, m.fact_key, n.verified_ssn
        FROM matches m LEFT JOIN ndnh n ON n.ndnh_id = m.ndnh_id WHERE m.cycle_id = ?""",
        [cycle],
    )


def _proactive_ft(con: duckdb.DuckDBPyConnection, cycle: str) -> None:
    con.execute(
        """INSERT INTO ft_out
        WITH persons AS (SELECT p.*, c.case_type FROM fcr_persons p JOIN fcr_cases c USING (state, case_id)
                         WHERE p.status = 'active' AND p.verified_ssn IS NOT NULL),
        pairs AS (SELECT a.state, a.case_id, a.member_id, b.state AS m_state, b.case_id AS m_case,
                         b.case_type AS m_type, b.participant_type AS m_ptype, b.member_id AS m_member, b.verified_ssn,
                         b.first_name, b.middle_name, b.last_name, b.sex, b.dob,
                         md5(concat_ws('|', b.state, b.case_id, b.member_id)) AS fact_key,
                         EXISTS (SELECT 1 FROM persons f WHERE f.verified_ssn = b.verified_ssn
                                 AND f.family_violence = 'FV' AND f.state <> a.state) AS fv
                  FROM persons a JOIN persons b ON a.verified_ssn = b.verified_ssn AND a.state <> b.state
                  WHERE a.verified_cycle = ? OR b.verified_cycle = ?)
        SELECT ?, p.state, p.case_id, p.member_id, p.m_state,
            CASE WHEN NOT p.fv THEN p.m_case END, p.m_type, p.m_ptype, CASE WHEN NOT p.fv THEN p.m_member END,
            p.verified_ssn, p.first_name, p.middle_name, p.last_name, p.sex, p.dob, m.date_of_death,
            CASE WHEN p.fv THEN 'Y' END, p.fact_key
        FROM pairs p LEFT JOIN ssa_current m ON m.ssn = p.verified_ssn
        WHERE NOT EXISTS (SELECT 1 FROM responses_sent s WHERE s.recipient = p.state AND s.member_id = p.member_id
                          AND s.fact_key = p.fact_key AND s.record_type = 'FT')""",
        [cycle, cycle, cycle],
    )
    con.execute(
        """INSERT INTO responses_sent SELECT cycle_id, state, 'FT', member_id, fact_key, ssn
        FROM ft_out WHERE cycle_id = ?""",
        [cycle],
    )


def run_ndnh(
    con: duckdb.DuckDBPyConnection,
    cycle: str,
    as_of: date,
    master: MasterRef | None = None,
    log: Callable[..., None] | None = None,
) -> NdnhResult:
    """Verify, match and record facts to send (caller owns the transaction). `log(event, **data)` hears each part's
    wall and CPU seconds (event `ndnh_part`)."""
    master = master or MasterRef(con)
    parts = (
        ("verify", lambda: _verify(con, cycle, master, as_of)),
        ("candidates", lambda: _candidates(con, cycle, as_of)),
        ("matches", lambda: _record_matches(con, cycle)),
        ("proactive_ft", lambda: _proactive_ft(con, cycle)),
    )
    for name, part in parts:
        wall, cpu = time.perf_counter(), time.process_time()
        part()
        if log is not None:
            log(
                "ndnh_part",
                part=name,
                seconds=round(time.perf_counter() - wall, 3),
                cpu_seconds=round(time.process_time() - cpu, 3),
            )
    row = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE verification = 'V'), count(*) FILTER (WHERE verification = 'U')
        FROM ndnh WHERE cycle_id = ?""",
        [cycle],
    ).fetchone()
    fn = con.execute("SELECT count(*) FROM matches WHERE cycle_id = ?", [cycle]).fetchone()[0]
    ft = con.execute("SELECT count(*) FROM ft_out WHERE cycle_id = ?", [cycle]).fetchone()[0]
    matched = con.execute(
        "SELECT count(*) FROM matches WHERE cycle_id = ? AND ndnh_id IS NOT NULL", [cycle]
    ).fetchone()[0]
    return NdnhResult(row[0], row[1], row[2], matched, fn, ft)
