"""Pieces shared by the enforcement stage modules: name keys, the debtor population, family-violence
withholding, append-only sequence numbers. (Outbound files go through pipeline/files/delivery.py.)"""

from __future__ import annotations

import duckdb
import polars as pl

FI_KINDS = ("fi", "financial_institution")


def key4(expr: pl.Expr) -> pl.Expr:
    """First four letters of a name (letters only, upper case): the MSFIDM / FOP surname key."""
    return expr.cast(pl.Utf8).str.to_uppercase().str.replace_all(r"[^A-Z]", "").str.slice(0, 4)


def sql_key4(col: str) -> str:
    return f"left(regexp_replace(upper(coalesce({col}, '')), '[^A-Z]', '', 'g'), 4)"


def has_code(col: str, code: str) -> str:
    """SQL: does the comma list in `col` hold `code`."""
    return f"list_contains(string_split(coalesce({col}, ''), ','), '{code}')"


def next_seq(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT coalesce(max(seq), 0) FROM {table}").fetchone()[0])


def debtor_persons(con: duckdb.DuckDBPyConnection, exclusion: str | None) -> pl.DataFrame:
    """Active certified debtors, one row per (state, SSN), excluding those whose every active case
    excludes `exclusion` (e.g. FIN for MSFIDM, INS for insurance); names from the registry, DOB and
    middle name from the SSA master."""
    excl = f"AND NOT {has_code('d.exclusions', exclusion)}" if exclusion else ""
    return _frame(
        con,
        f"""
        SELECT d.state, d.ssn, first(d.last_name ORDER BY d.case_type) AS last_name,
               first(d.first_name ORDER BY d.case_type) AS first_name,
               first(d.address_line_1 ORDER BY d.case_type) AS street, first(d.city ORDER BY d.case_type) AS city,
               first(d.addr_state ORDER BY d.case_type) AS addr_state, first(left(d.zip, 5) ORDER BY d.case_type) AS zip,
               first(m.middle_name) AS middle_name, first(m.dob) AS dob, first(m.sex) AS sex,
               first(m.last_name) AS master_last_name, first(m.first_name) AS master_first_name,
               min(d.source_file_id) AS source_file_id
        FROM debtors d LEFT JOIN ssa_current m ON m.ssn = d.ssn
        WHERE d.status = 'active' {excl}
        GROUP BY d.state, d.ssn ORDER BY d.state, d.ssn""",
    )


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    from pipeline.store import frame

    return frame(con, sql, params)


def fv_states(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(ssn, fv_state): every state that flags a verified SSN's person FV (family violence)."""
    return _frame(
        con,
        """SELECT DISTINCT verified_ssn AS ssn, state AS fv_state FROM fcr_persons
        WHERE status = 'active' AND family_violence = 'FV' AND verified_ssn IS NOT NULL""",
    )


def add_withheld(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """Add `data_withheld` = 'Y' where the person (column `ssn`) is flagged FV by a state other than the
    recipient (column `state`): that state gets no address or employer data (DESIGN §8)."""
    fv = fv_states(con)
    hit = (
        frame.select("state", "ssn")
        .unique()
        .join(fv, on="ssn", how="inner")
        .filter(pl.col("fv_state") != pl.col("state"))
        .select("state", "ssn")
        .unique()
        .with_columns(pl.lit("Y").alias("data_withheld"))
    )
    return frame.join(hit, on=["state", "ssn"], how="left")


def header(recipient_state: str | None, as_of, cycle: str) -> pl.DataFrame:
    data = {"date_stamp": [as_of], "cycle_id": [cycle]}
    if recipient_state is not None:
        data["recipient_state"] = [recipient_state]
    return pl.DataFrame(data)
