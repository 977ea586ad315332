"""The NDNH verification's fast path, in the store: records that carry exactly the master's SSN, first and last
name verify by rule 1 (`exact_ssn`) without leaving DuckDB; only the others are read into the kernel.

Why it gives the same decision as `matchers.kernel.decide_pairs`: equal raw names have equal normalised keys, so
first and last name agree and `matchers.evidence.exact_ok` holds unless the DOB disagrees; with the DOB equal or
unknown on either side it holds. Rule 1 outranks every other rule and verifies to the record's own SSN. The
reference (`fast_reference`) keeps only SSNs that one master record holds, of a person SSA issued one SSN (no
alias to another SSN, `ndnhverify._registered_alias`), whose first and last name are not blank or placeholders.

Rule 5 (`confirmed_name`) and rules 6-7 (employer references) still see these records: `confirmed_keys` gives the
(SSN, name keys) they confirm with an exact DOB, and `employer_references` gives them as references.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipeline.store import frame

FAST_TABLE = "ndnh_fast"  # temp table: ndnh_id of this cycle's records verified by the fast path


def fast_reference(prepared: tuple[pl.DataFrame, pl.DataFrame]) -> pl.DataFrame:
    """ssn_key, first_name, last_name (raw, as on the master), dob, fn_key, ln_key: the master SSNs the fast path
    may verify (see module doc)."""
    M, keys = prepared
    multi = (
        M.select("_all_ssns")
        .filter(pl.col("_all_ssns").list.len() > 1)
        .explode("_all_ssns")
        .rename({"_all_ssns": "ssn_key"})
        if "_all_ssns" in M.columns
        else pl.DataFrame(schema={"ssn_key": pl.Utf8})
    )
    single = keys.filter(pl.len().over("ssn_key") == 1).join(multi, on="ssn_key", how="anti")
    return (
        single.join(
            M.select("m", "first_name", "last_name", pl.col("dob_date").alias("dob"), "fn_key", "ln_key"), on="m"
        )
        .drop_nulls(["first_name", "last_name", "fn_key", "ln_key"])
        .filter(pl.col("ssn_key").str.contains(r"^\d{9}$"))
        .select(
            "ssn_key", pl.col("first_name").cast(pl.Utf8), pl.col("last_name").cast(pl.Utf8), "dob", "fn_key", "ln_key"
        )
    )


def verify_fast(con: duckdb.DuckDBPyConnection, cycle: str, reference: pl.DataFrame) -> int:
    """Mark this cycle's records the fast path verifies (V, their own SSN) and list them in `FAST_TABLE` (ndnh_id,
    ssn, employer_fein, first_name, last_name; confirmed with the name keys when the DOB is exact); the number of
    records so verified."""
    con.register("ssa_fast", reference)
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {FAST_TABLE} AS
            SELECT n.ndnh_id, n.ssn, n.employer_fein, n.first_name, n.last_name, n.dob = f.dob AS confirmed,
                f.fn_key, f.ln_key
            FROM ndnh n JOIN ssa_fast f ON f.ssn_key = n.ssn AND f.first_name = n.first_name AND f.last_name = n.last_name
            WHERE n.cycle_id = ? AND (n.dob IS NULL OR f.dob IS NULL OR n.dob = f.dob)""",
            [cycle],
        )
    finally:
        con.unregister("ssa_fast")
    con.execute(
        f"""UPDATE ndnh SET verification = 'V', verified_ssn = ssn
        WHERE cycle_id = ? AND ndnh_id IN (SELECT ndnh_id FROM {FAST_TABLE})""",
        [cycle],
    )
    return con.execute(f"SELECT count(*) FROM {FAST_TABLE}").fetchone()[0]


def slow_records(con: duckdb.DuckDBPyConnection, cycle: str) -> pl.DataFrame:
    """This cycle's records the fast path left, as the kernel reads them."""
    return frame(
        con,
        f"""SELECT ndnh_id AS key, ssn, first_name, middle_name, last_name, dob, source, employer_fein
        FROM ndnh WHERE cycle_id = ? AND ndnh_id NOT IN (SELECT ndnh_id FROM {FAST_TABLE}) ORDER BY ndnh_id""",
        [cycle],
    )


def confirmed_keys(con: duckdb.DuckDBPyConnection, ssns: pl.DataFrame) -> pl.DataFrame:
    """ssn_key, fn_key, ln_key confirmed by a fast-path record with an exact DOB, for the SSNs in `ssns` (ssn_key)."""
    con.register("ndnh_open_ssns", ssns)
    try:
        return frame(
            con,
            f"""SELECT DISTINCT c.ssn AS ssn_key, c.fn_key, c.ln_key FROM {FAST_TABLE} c
            SEMI JOIN ndnh_open_ssns o ON o.ssn_key = c.ssn WHERE c.confirmed ORDER BY ALL""",
        )
    finally:
        con.unregister("ndnh_open_ssns")


def employer_references(con: duckdb.DuckDBPyConnection, cycle: str, as_of, wanted: pl.DataFrame) -> pl.DataFrame:
    """employer_fein, verified_ssn, first_name, last_name of the verified records with a wanted (employer_fein,
    verified_ssn) that rules 6-7 use besides the kernel's own: earlier cycles' (12 months) and this cycle's
    fast-path records."""
    con.register("ndnh_open_employers", wanted)
    try:
        return frame(
            con,
            f"""SELECT DISTINCT * FROM (
                SELECT n.employer_fein, n.verified_ssn, n.first_name, n.last_name FROM ndnh n
                SEMI JOIN ndnh_open_employers f ON f.employer_fein = n.employer_fein AND f.verified_ssn = n.verified_ssn
                WHERE n.verified_ssn IN (SELECT verified_ssn FROM ndnh_open_employers) AND n.verification = 'V' AND n.cycle_id <> ? AND n.received > ?::DATE - INTERVAL 12 MONTH
                UNION ALL
                SELECT t.employer_fein, t.ssn, t.first_name, t.last_name FROM {FAST_TABLE} t
                SEMI JOIN ndnh_open_employers f ON f.employer_fein = t.employer_fein AND f.verified_ssn = t.ssn
                WHERE t.ssn IN (SELECT verified_ssn FROM ndnh_open_employers))
            ORDER BY ALL""",
            [cycle, as_of],
        )
    finally:
        con.unregister("ndnh_open_employers")
