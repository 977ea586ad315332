"""FCR registry stage: apply this cycle's case and person records, verify SSNs, build FD / FS acks.

Set-based (SQL over the store, one transaction with the stage marker). Within one cycle the first
record for a case (or case member) is applied; a later record for the same key is rejected with a
duplicate-in-cycle error and can be resubmitted next cycle. Error codes (fpls, prov P):
PE001 case add: case already on the FCR · PE002 case change/delete: case not on the FCR ·
PE004 / LE004 duplicate transaction for the key in this cycle · LE001 person add: already on the case ·
LE002 person change/delete: not on the case · LE003 case not on the FCR · PW010 warning: DOB differs
from SSA's by more than a year · LW020 warning: submitted SSN is on the state's misidentified list · PW001
warning: the submitted SSN was never issued (area 000, 666 or 9xx, group 00, serial 0000), held for
identification by name and DOB. Records validation rejected get REJCT with TEnnn (pipeline/cycle/fcr_rejects.py).
Persons without a verified or identified SSN are acknowledged HOLDS and re-verified every cycle; when
identified, a later cycle sends an AAAAA ack (source_line blank) and proactive matching runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from pipeline.cycle.fcr_rejects import write_reject_acks
from pipeline.cycle.ssnverify import MasterRef, verify_persons
from pipeline.enforcement.asap import request_queued_locates
from pipeline.store import frame

PERSON_FIELDS = (
    "participant_type, family_violence, sex, dob, ssn, first_name, middle_name, last_name, "
    "additional_ssn_1, additional_ssn_2, additional_first_name_1, additional_last_name_1, "
    "additional_first_name_2, additional_last_name_2"
)


@dataclass
class FcrResult:
    cases: int = 0
    persons: int = 0
    accepted: int = 0
    held: int = 0
    rejected: int = 0
    resolved_holds: int = 0
    asap_locates: int = (
        0  # locate requests the early-intervention program queued last cycle (returned mail, no address)
    )


def _cases(con: duckdb.DuckDBPyConnection, cycle: str) -> None:
    con.execute(
        """CREATE OR REPLACE TEMP TABLE cin AS
        SELECT c.*, row_number() OVER (PARTITION BY c.state, c.case_id ORDER BY c.file_id, c.line_no) AS rn,
               e.case_id IS NOT NULL AS on_fcr
        FROM fcr_case_input c LEFT JOIN fcr_cases e
          ON e.state = c.state AND e.case_id = c.case_id AND e.status = 'active'
        WHERE c.cycle_id = ?""",
        [cycle],
    )
    con.execute("""ALTER TABLE cin ADD COLUMN err VARCHAR""")
    con.execute("""UPDATE cin SET err = CASE WHEN rn > 1 THEN 'PE004'
        WHEN action_type = 'A' AND on_fcr THEN 'PE001' WHEN action_type IN ('C', 'D') AND NOT on_fcr THEN 'PE002' END""")
    con.execute(
        "DELETE FROM fcr_cases USING cin WHERE cin.err IS NULL AND cin.action_type = 'A' "
        "AND fcr_cases.state = cin.state AND fcr_cases.case_id = cin.case_id"
    )
    con.execute(
        """INSERT INTO fcr_cases SELECT state, case_id, case_type, order_indicator, fips_county, 'active', ?, ?
        FROM cin WHERE err IS NULL AND action_type = 'A'""",
        [cycle, cycle],
    )
    con.execute(
        """UPDATE fcr_cases SET case_type = cin.case_type, order_indicator = cin.order_indicator,
            fips_county = cin.fips_county, changed_cycle = ?,
            status = CASE WHEN cin.action_type = 'D' THEN 'deleted' ELSE 'active' END
        FROM cin WHERE cin.err IS NULL AND cin.action_type IN ('C', 'D')
          AND fcr_cases.state = cin.state AND fcr_cases.case_id = cin.case_id""",
        [cycle],
    )
    con.execute(
        """UPDATE fcr_persons SET status = 'deleted', changed_cycle = ? FROM cin
        WHERE cin.err IS NULL AND cin.action_type = 'D' AND fcr_persons.state = cin.state
          AND fcr_persons.case_id = cin.case_id AND fcr_persons.status = 'active'""",
        [cycle],
    )
    con.execute(
        """INSERT INTO ack_fd SELECT ?, state, file_id, line_no, action_type, case_id, case_type,
            order_indicator, fips_county, user_field, previous_case_id, batch_number,
            CASE WHEN err IS NULL THEN 'AAAAA' ELSE 'REJCT' END, err, NULL, NULL, NULL, NULL FROM cin""",
        [cycle],
    )


def _persons(con: duckdb.DuckDBPyConnection, cycle: str) -> None:
    con.execute(
        """CREATE OR REPLACE TEMP TABLE pin AS
        SELECT p.*, row_number() OVER (PARTITION BY p.state, p.case_id, p.member_id, p.action_type = 'L'
                                        ORDER BY p.file_id, p.line_no) AS rn,
               c.case_id IS NOT NULL AS case_on_fcr, e.member_id IS NOT NULL AS on_fcr
        FROM fcr_person_input p
        LEFT JOIN fcr_cases c ON c.state = p.state AND c.case_id = p.case_id AND c.status = 'active'
        LEFT JOIN fcr_persons e ON e.state = p.state AND e.case_id = p.case_id AND e.member_id = p.member_id
             AND e.status = 'active'
        WHERE p.cycle_id = ?""",
        [cycle],
    )
    con.execute("ALTER TABLE pin ADD COLUMN err VARCHAR")
    con.execute("""UPDATE pin SET err = CASE WHEN rn > 1 THEN 'LE004' WHEN NOT case_on_fcr THEN 'LE003'
        WHEN action_type = 'L' THEN NULL WHEN action_type = 'A' AND on_fcr THEN 'LE001' WHEN action_type IN ('C', 'D') AND NOT on_fcr THEN 'LE002' END""")
    con.execute(
        "DELETE FROM fcr_persons USING pin WHERE pin.err IS NULL AND pin.action_type = 'A' AND "
        "fcr_persons.state = pin.state AND fcr_persons.case_id = pin.case_id AND fcr_persons.member_id = pin.member_id"
    )
    con.execute(
        f"""INSERT INTO fcr_persons BY NAME SELECT state, case_id, member_id, {PERSON_FIELDS},
            'active' AS status, ? AS added_cycle, ? AS changed_cycle
        FROM pin WHERE err IS NULL AND action_type = 'A'""",
        [cycle, cycle],
    )
    sets = ", ".join(f"{c} = pin.{c}" for c in PERSON_FIELDS.split(", "))
    con.execute(
        f"""UPDATE fcr_persons SET {sets}, changed_cycle = ?, validity_code = NULL, verified_ssn = NULL,
            status = CASE WHEN pin.action_type = 'D' THEN 'deleted' ELSE 'active' END
        FROM pin WHERE pin.err IS NULL AND pin.action_type IN ('C', 'D') AND fcr_persons.state = pin.state
          AND fcr_persons.case_id = pin.case_id AND fcr_persons.member_id = pin.member_id""",
        [cycle],
    )


def _to_verify(con: duckdb.DuckDBPyConnection, cycle: str) -> pl.DataFrame:
    """Active persons changed this cycle or still held, plus this cycle's locate requests."""
    return frame(
        con,
        f"""
        SELECT row_number() OVER (ORDER BY kind, state, case_id, member_id, line_no)::BIGINT AS key, * FROM (
          SELECT 'P' AS kind, state, case_id, member_id, 0::BIGINT AS line_no, {PERSON_FIELDS} FROM fcr_persons
          WHERE status = 'active' AND (changed_cycle = ? OR verified_ssn IS NULL)
          UNION ALL
          SELECT 'L', state, case_id, member_id, line_no, {PERSON_FIELDS} FROM pin
          WHERE action_type = 'L' AND err IS NULL)""",
        [cycle],
    )


def _verify(con: duckdb.DuckDBPyConnection, cycle: str, master: MasterRef) -> int:
    todo = _to_verify(con, cycle)
    if todo.is_empty():
        return 0
    mis = frame(con, "SELECT DISTINCT state, member_id, ssn FROM misidentified")
    result = todo.join(verify_persons(todo, master, mis), on="key", how="left")  # noqa: F841 - read by name in SQL
    con.execute("CREATE OR REPLACE TEMP TABLE vres AS SELECT * FROM result")
    resolved = con.execute(
        """SELECT count(*) FROM vres v JOIN fcr_persons p USING (state, case_id, member_id)
        WHERE v.kind = 'P' AND p.status = 'active' AND p.changed_cycle IS DISTINCT FROM ?
          AND v.verified_ssn IS NOT NULL""",
        [cycle],
    ).fetchone()[0]
    con.execute(
        """UPDATE fcr_persons SET validity_code = v.validity_code, verified_ssn = v.verified_ssn,
            evidence = v.evidence, verified_cycle = CASE WHEN v.verified_ssn IS NOT NULL THEN ? END
        FROM vres v WHERE v.kind = 'P' AND fcr_persons.state = v.state AND fcr_persons.case_id = v.case_id
          AND fcr_persons.member_id = v.member_id""",
        [cycle],
    )
    con.execute(
        """INSERT INTO ssn_validity_history SELECT ?, state, case_id, member_id, ssn, validity_code,
            verified_ssn, evidence FROM vres v WHERE kind = 'P' AND (verified_ssn IS NOT NULL OR EXISTS
            (SELECT 1 FROM fcr_persons p WHERE p.state = v.state AND p.case_id = v.case_id
             AND p.member_id = v.member_id AND p.changed_cycle = ?))""",
        [cycle, cycle],
    )
    con.execute(
        """INSERT INTO locate_requests SELECT ?, p.file_id, p.line_no, p.state, p.case_id, p.member_id,
            p.participant_type, v.verified_ssn, v.validity_code FROM pin p JOIN vres v
            ON v.kind = 'L' AND v.state = p.state AND v.case_id = p.case_id AND v.member_id = p.member_id
            AND v.line_no = p.line_no""",
        [cycle],
    )
    return int(resolved)


FS_SELECT = """
    SELECT ?, x.state, x.file_id, x.line_no, x.action_type, x.case_id, x.participant_type, x.family_violence,
        x.member_id, x.sex, x.dob, x.ssn, x.first_name, x.middle_name, x.last_name,
        CASE WHEN x.err IS NOT NULL THEN 'REJCT' WHEN v.verified_ssn IS NULL AND x.action_type <> 'D' THEN 'HOLDS'
             ELSE 'AAAAA' END,
        x.err, CASE WHEN m.dob IS NOT NULL AND x.dob IS NOT NULL AND abs(date_diff('day', m.dob, x.dob)) > 365
                    THEN 'PW010' END,
        CASE WHEN x.ssn IN (SELECT ssn FROM misidentified mi WHERE mi.state = x.state AND mi.member_id = x.member_id)
             THEN 'LW020' END,
        CASE WHEN left(x.ssn, 3) IN ('000', '666') OR left(x.ssn, 1) = '9' OR substr(x.ssn, 4, 2) = '00'
                  OR right(x.ssn, 4) = '0000' THEN 'PW001' END, NULL,
        v.validity_code, CASE WHEN v.validity_code IN ('C', 'E', 'P', 'S') THEN v.verified_ssn END,
        m.other_ssn_1, m.other_ssn_2, m.other_ssn_3,
        CASE WHEN m.dob IS NULL OR x.dob IS NULL THEN NULL
             WHEN abs(date_diff('day', m.dob, x.dob)) <= 365 THEN 'N' ELSE 'Y' END,
        m.date_of_death, v.verified_ssn"""


def _acks(con: duckdb.DuckDBPyConnection, cycle: str) -> None:
    # Join keys are computed first: an OR (or CASE) inside the ON clause makes DuckDB fall back to a
    # nested-loop join (minutes at 155k persons); plain column equalities hash-join in milliseconds.
    con.execute(
        f"""INSERT INTO ack_fs {FS_SELECT}
        FROM (SELECT *, CASE WHEN action_type = 'L' THEN 'L' WHEN err IS NULL AND rn = 1 THEN 'P' END AS j_kind,
                     CASE WHEN action_type = 'L' THEN line_no ELSE 0 END AS j_line FROM pin) x
        LEFT JOIN vres v ON v.state = x.state AND v.case_id = x.case_id AND v.member_id = x.member_id
             AND v.kind = x.j_kind AND v.line_no = x.j_line
        LEFT JOIN ssa_current m ON m.ssn = v.verified_ssn""",
        [cycle],
    )
    # holds resolved this cycle: persons not submitted now whose SSN was identified now
    con.execute(
        f"""INSERT INTO ack_fs {FS_SELECT}
        FROM (SELECT p.*, NULL::INTEGER AS file_id, NULL::BIGINT AS line_no, 'A' AS action_type, NULL AS err
              FROM fcr_persons p WHERE p.verified_cycle = ? AND p.changed_cycle IS DISTINCT FROM ?) x
        JOIN vres v ON v.kind = 'P' AND v.state = x.state AND v.case_id = x.case_id AND v.member_id = x.member_id
        LEFT JOIN ssa_current m ON m.ssn = v.verified_ssn""",
        [cycle, cycle, cycle],
    )


def run_fcr(con: duckdb.DuckDBPyConnection, cycle: str, master: MasterRef | None = None) -> FcrResult:
    """Apply FC/FP records of the cycle, verify SSNs, write FD/FS acks (caller owns the transaction)."""
    _cases(con, cycle)
    _persons(con, cycle)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE vres (kind VARCHAR, state VARCHAR, case_id VARCHAR, member_id VARCHAR,"
        " line_no BIGINT, verified_ssn VARCHAR, validity_code VARCHAR)"
    )
    resolved = _verify(con, cycle, master or MasterRef(con))
    asap_locates = request_queued_locates(con, cycle)
    _acks(con, cycle)
    write_reject_acks(con, cycle)
    counts = con.execute(
        """SELECT count(*) FILTER (WHERE ack_code = 'AAAAA'), count(*) FILTER (WHERE ack_code = 'HOLDS'),
        count(*) FILTER (WHERE ack_code = 'REJCT') FROM ack_fs WHERE cycle_id = ?""",
        [cycle],
    ).fetchone()
    n_cases = con.execute("SELECT count(*) FROM cin").fetchone()[0]
    n_persons = con.execute("SELECT count(*) FROM pin").fetchone()[0]
    return FcrResult(n_cases, n_persons, counts[0], counts[1], counts[2], resolved, asap_locates)
