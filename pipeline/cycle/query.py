"""FCR query (`fpls query person`): a person's cases and roles in every state, SSN validity, death,
latest NDNH employer. SSNs are masked unless the caller asks for them.

An operator runs it as a fresh process during a cycle, so it reads its few rows straight from DuckDB: no
polars, no pyarrow (their imports cost more than the lookup)."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from pipeline.safeguards.masking import mask_ssn

SSN_COLUMNS = ("ssn", "verified_ssn")


def _where(ssn: str | None, member: str | None, name: str | None, dob: date | None) -> tuple[str, list]:
    if ssn:
        return "(p.verified_ssn = ? OR p.ssn = ?)", [ssn, ssn]
    if member:
        return "p.member_id = ?", [member]
    parts = (name or "").upper().split()
    first, last = (parts[0], parts[-1]) if len(parts) > 1 else ("", parts[0] if parts else "")
    sql, params = "p.last_name = ?", [last]
    if first:
        sql += " AND p.first_name = ?"
        params.append(first)
    if dob:
        sql += " AND p.dob = ?"
        params.append(dob)
    return sql, params


def query_person(
    con: duckdb.DuckDBPyConnection,
    ssn: str | None = None,
    member: str | None = None,
    name: str | None = None,
    dob: date | None = None,
    show_ssn: bool = False,
) -> list[dict[str, Any]]:
    """Every FCR registration of the person(s) found, across states (one row per case membership). The NDNH and
    SSA lookups are restricted to the persons found first, so a query costs a scan, not a sort of the store
    (an operator's query during a cycle answers in well under the 2 s DESIGN asks, at 1M persons too).
    One dict per row, columns in SELECT order."""
    where, params = _where(ssn, member, name, dob)
    seeds = f"SELECT DISTINCT coalesce(p.verified_ssn, p.state || '|' || p.member_id) AS pkey FROM fcr_persons p WHERE {where}"
    cursor = con.execute(
        f"""
        WITH seeds AS ({seeds}),
        master AS (SELECT ssn, date_of_death FROM ssa_master WHERE ssn IN (SELECT pkey FROM seeds)
                   QUALIFY row_number() OVER (PARTITION BY ssn ORDER BY file_id DESC, line_no DESC) = 1),
        latest AS (SELECT verified_ssn, employer_name, employer_fein, source, coalesce(hire_date, received) AS reported
                   FROM ndnh WHERE verification = 'V' AND verified_ssn IN (SELECT pkey FROM seeds)
                   QUALIFY row_number() OVER (PARTITION BY verified_ssn ORDER BY received DESC, hire_date DESC NULLS LAST,
                                              ndnh_id DESC) = 1)
        SELECT p.state, p.case_id, c.case_type, p.member_id, p.participant_type, p.family_violence, p.status,
               p.first_name, p.last_name, p.dob, p.ssn, p.verified_ssn, p.validity_code,
               m.date_of_death, m.date_of_death IS NOT NULL AS deceased,
               CASE WHEN p.family_violence = 'FV' THEN NULL ELSE l.employer_name END AS latest_employer,
               l.source AS latest_source, l.reported AS latest_reported
        FROM fcr_persons p JOIN seeds s ON s.pkey = coalesce(p.verified_ssn, p.state || '|' || p.member_id)
        LEFT JOIN fcr_cases c ON c.state = p.state AND c.case_id = p.case_id
        LEFT JOIN master m ON m.ssn = p.verified_ssn
        LEFT JOIN latest l ON l.verified_ssn = p.verified_ssn
        ORDER BY p.state, p.case_id, p.member_id""",
        params,
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values)) for values in cursor.fetchall()]
    if not show_ssn:
        for row in rows:
            row.update({c: mask_ssn(row[c]) for c in SSN_COLUMNS})
    return rows
