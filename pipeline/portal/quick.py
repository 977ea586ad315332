"""QUICK (Query Interstate Cases for Kids): one case of a state as another state sees it - participants,
case status, financial summary (from the case financial files the state submits, table case_financial)
and the worker contact (the case state's IRG contact) - and every query in the audit trail: a
`quick_queries` row plus one disclosure-log row per participant disclosed (recipient = querying state).

Family violence: a participant flagged FV is shown to another state by role only (names and DOB withheld).
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from pipeline.portal.irg import irg_contact
from pipeline.store import frame, insert_frame, transaction

LEGAL_BASIS = "QUICK interstate case query between IV-D agencies (42 USC 654(26); 45 CFR 303.7)"
OPERATOR_VIEW = "OCSE"


def _case(con, state: str, case_id: str) -> dict | None:
    row = con.execute(
        """SELECT state, case_id, case_type, order_indicator, fips_county, status, added_cycle, changed_cycle
        FROM fcr_cases WHERE state = ? AND case_id = ?""",
        [state, case_id],
    ).fetchone()
    keys = ("state", "case_id", "case_type", "order_indicator", "fips_county", "status", "added_cycle", "changed_cycle")
    return dict(zip(keys, row)) if row else None


def _participants(con, state: str, case_id: str, viewer: str) -> pl.DataFrame:
    rows = frame(
        con,
        """SELECT p.member_id, p.participant_type, p.family_violence, p.status, p.first_name, p.last_name,
            p.dob, p.validity_code, p.verified_ssn IS NOT NULL AS ssn_verified, m.date_of_death IS NOT NULL AS deceased,
            coalesce(p.verified_ssn, p.ssn, p.state || '|' || p.member_id) AS person_key
        FROM fcr_persons p LEFT JOIN ssa_current m ON m.ssn = p.verified_ssn
        WHERE p.state = ? AND p.case_id = ? ORDER BY p.participant_type, p.member_id""",
        [state, case_id],
    )
    hide = (pl.col("family_violence") == "FV") & pl.lit(viewer != state)
    return rows.with_columns(
        *[pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in ("first_name", "last_name", "dob")],
        hide.fill_null(False).alias("data_withheld"),
    )


def _has_table(con, name: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0] > 0


def _financial(con, state: str, case_id: str) -> dict:
    """Latest snapshot (obligation, arrears) and the payments seen across the state's snapshots."""
    if not _has_table(con, "case_financial"):
        return {"available": False}
    snaps = frame(
        con,
        """SELECT member_id, case_type, monthly_obligation, arrears, last_payment_date, last_payment_amount,
            as_of_date FROM case_financial WHERE state = ? AND case_id = ? ORDER BY as_of_date, file_id, line_no""",
        [state, case_id],
    )
    if snaps.is_empty():
        return {"available": False}
    latest = snaps.row(-1, named=True)
    payments = (
        snaps.filter(pl.col("last_payment_date").is_not_null())
        .unique(["last_payment_date", "last_payment_amount"], maintain_order=True)
        .select(pl.col("last_payment_date").alias("date"), pl.col("last_payment_amount").alias("amount_cents"))
    )
    return {
        "available": True,
        "as_of_date": latest["as_of_date"],
        "case_type": latest["case_type"],
        "monthly_obligation_cents": latest["monthly_obligation"],
        "arrears_cents": latest["arrears"],
        "payments_received_cents": int(payments["amount_cents"].sum() or 0),
        "payments": payments.to_dicts(),
        "payments_distributed_cents": None,  # not in case_financial_csv: see the report of issue 10
        "arrears_history": snaps.select("as_of_date", pl.col("arrears").alias("arrears_cents")).to_dicts(),
    }


def _log(
    con, viewer: str, state: str, case_id: str, people: pl.DataFrame, found: bool, as_of: date, operator: str | None
) -> int:
    with transaction(con):
        seq = int(con.execute("SELECT coalesce(max(seq), 0) + 1 FROM quick_queries").fetchone()[0])
        con.execute(
            "INSERT INTO quick_queries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [seq, as_of, viewer, state, case_id, found, people.height, operator],
        )
        cats = pl.when(pl.col("data_withheld")).then(pl.lit(["role"])).otherwise(pl.lit(["name", "dob", "payment"]))
        insert_frame(
            con,
            "disclosures",
            people.with_row_index("line_no", offset=1).select(
                pl.lit(f"QUICK-{as_of:%Y%m%d}").alias("cycle_id"),
                pl.lit(viewer).alias("recipient"),
                pl.lit(f"QUICK-{seq:06d}").alias("file_name"),
                pl.lit("quick_case").alias("layout"),
                pl.lit("QC").alias("record_type"),
                pl.col("line_no").cast(pl.Int64),
                "person_key",
                "member_id",
                cats.alias("categories"),
                pl.lit(f"{LEGAL_BASIS}; case {state}/{case_id}").alias("legal_basis"),
            ),
        )
    return seq


def query_case(
    con: duckdb.DuckDBPyConnection,
    state: str,
    case_id: str,
    viewer: str | None,
    as_of: date,
    operator: str | None = None,
) -> dict:
    """The QUICK view of one case; the query (found or not) is always logged."""
    viewer = viewer or OPERATOR_VIEW
    case = _case(con, state, case_id)
    people = _participants(con, state, case_id, viewer) if case else _participants(con, "", "", viewer)
    seq = _log(con, viewer, state, case_id, people, case is not None, as_of, operator)
    if case is None:
        return {"query": seq, "found": False, "state": state, "case_id": case_id}
    return {
        "query": seq,
        "found": True,
        "viewer": viewer,
        "case": case,
        "participants": people.drop("person_key", "family_violence").to_dicts(),
        "financial": _financial(con, state, case_id),
        "worker_contact": irg_contact(con, state),
    }


def queries(con: duckdb.DuckDBPyConnection, querying_state: str | None = None) -> pl.DataFrame:
    return frame(
        con,
        """SELECT * FROM quick_queries WHERE (? IS NULL OR querying_state = ?) ORDER BY seq""",
        [querying_state, querying_state],
    )
