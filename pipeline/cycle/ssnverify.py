"""SSN verification used by the cycle: `verify_persons` (FCR persons → SSN validity code) and
`verify_ndnh` (NDNH records → V verified / U unverified).

`matchers.verify` (the full verifier: nicknames, DOB tolerance, one-digit corrections) is used when it
exists and exposes functions with these signatures; otherwise this simple, fully vectorised verifier
runs: exact SSN + name agreement (first initial and first four letters of the last name, or the two
swapped, or an additional name), additional SSNs (E), an adjacent-digit transposition with name and DOB
agreeing (C), and identification by exact last name + DOB + first initial (P, or R when several).
The state's misidentified list forbids an SSN for that member.

The full verifier's two heavy calls are engine kernels (`pipeline.engine`): `FCR_PERSONS` and `NDNH_RECORDS`
run over the whole frame in process (local) or per SSN-hash partition under Spark, with the prepared SSA
master as a side frame every partition sees. The engine travels with the cycle's `MasterRef`.
"""

from __future__ import annotations

import importlib

import polars as pl

from pipeline.engine import Engine, Kernel, LocalEngine

PERSON_OUT = {"key": pl.Int64, "validity_code": pl.Utf8, "verified_ssn": pl.Utf8, "evidence": pl.Utf8}


def _initial(c: str) -> pl.Expr:
    return pl.col(c).str.slice(0, 1)


def _l4(c: str) -> pl.Expr:
    return pl.col(c).str.replace_all(r"[^A-Z]", "").str.slice(0, 4)


def name_agrees(first: str, last: str, m_first: str = "m_first", m_last: str = "m_last") -> pl.Expr:
    """First initial + first 4 of last name agree, in order or swapped (nulls never agree)."""
    straight = (_initial(first) == _initial(m_first)) & (_l4(last) == _l4(m_last))
    swapped = (_initial(last) == _initial(m_first)) & (_l4(first) == _l4(m_last))
    return (straight | swapped).fill_null(False)


def _master(master: pl.DataFrame) -> pl.DataFrame:
    return master.select(
        pl.col("ssn").alias("m_ssn"),
        pl.col("first_name").alias("m_first"),
        pl.col("last_name").alias("m_last"),
        pl.col("dob").alias("m_dob"),
    )


def _person_name_ok(frame: pl.DataFrame) -> pl.Expr:
    ok = name_agrees("first_name", "last_name")
    for i in (1, 2):
        if f"additional_last_name_{i}" in frame.columns:
            ok = ok | name_agrees(f"additional_first_name_{i}", f"additional_last_name_{i}")
    return ok


def _unique_hits(hits: pl.DataFrame, code: str, rule: str) -> pl.DataFrame:
    one = hits.unique(["key", "m_ssn"]).group_by("key").agg(pl.col("m_ssn").first(), pl.len().alias("n"))
    return one.select(
        "key",
        pl.when(pl.col("n") == 1).then(pl.lit(code)).otherwise(pl.lit("R")).alias("validity_code"),
        pl.when(pl.col("n") == 1).then(pl.col("m_ssn")).alias("verified_ssn"),
        pl.format('{{"rule":"{}","candidates":{}}}', pl.lit(rule), pl.col("n")).alias("evidence"),
    )


def _step(
    persons: pl.DataFrame,
    m: pl.DataFrame,
    ssn_col: str,
    code: str,
    rule: str,
    forbid: pl.DataFrame,
    need_dob: bool = False,
) -> pl.DataFrame:
    hits = persons.filter(pl.col(ssn_col).is_not_null()).join(
        m, left_on=ssn_col, right_on="m_ssn", how="inner", coalesce=False
    )
    ok = _person_name_ok(hits)
    if need_dob:
        ok = ok & (pl.col("dob") == pl.col("m_dob")).fill_null(False)
    hits = hits.filter(ok).join(forbid, on=["key", "m_ssn"], how="anti")
    return _unique_hits(hits, code, rule)


def _transpositions(persons: pl.DataFrame) -> pl.DataFrame:
    s = pl.col("ssn")
    variants = [
        (s.str.slice(0, i) + s.str.slice(i + 1, 1) + s.str.slice(i, 1) + s.str.slice(i + 2)).alias(f"t{i}")
        for i in range(8)
    ]
    out = persons.filter(s.str.len_chars() == 9).with_columns(variants)
    out = out.unpivot(index=[c for c in persons.columns], on=[f"t{i}" for i in range(8)], value_name="t_ssn")
    return out.filter(pl.col("t_ssn") != pl.col("ssn")).drop("variable")


def _forbidden(persons: pl.DataFrame, misidentified: pl.DataFrame | None) -> pl.DataFrame:
    if misidentified is None or misidentified.is_empty() or "member_id" not in persons.columns:
        return pl.DataFrame(schema={"key": pl.Int64, "m_ssn": pl.Utf8})
    return persons.join(misidentified.rename({"ssn": "m_ssn"}), on=["state", "member_id"]).select("key", "m_ssn")


def simple_verify_persons(
    persons: pl.DataFrame, master: pl.DataFrame, misidentified: pl.DataFrame | None = None
) -> pl.DataFrame:
    """persons: key, ssn, first/last name, dob, additional_ssn_1/2, additional names, state, member_id.
    → key, validity_code (V/E/C/P/R or null), verified_ssn (null for R / unverified), evidence."""
    m = _master(master)
    forbid = _forbidden(persons, misidentified)
    results, rest = [], persons
    steps = [
        ("ssn", "V", "ssn_exact_name", False),
        ("additional_ssn_1", "E", "additional_ssn_name", False),
        ("additional_ssn_2", "E", "additional_ssn_name", False),
    ]
    for col, code, rule, need_dob in steps:
        if col in rest.columns and not rest.is_empty():
            got = _step(rest, m, col, code, rule, forbid, need_dob).filter(pl.col("validity_code") != "R")
            results.append(got)
            rest = rest.join(got.select("key"), on="key", how="anti")
    if not rest.is_empty():
        got = _step(_transpositions(rest), m, "t_ssn", "C", "ssn_transposition_name_dob", forbid, True)
        results.append(got)
        rest = rest.join(got.select("key"), on="key", how="anti")
    if not rest.is_empty():
        by_name = rest.filter(pl.col("dob").is_not_null() & pl.col("last_name").is_not_null()).join(
            m, left_on=["last_name", "dob"], right_on=["m_last", "m_dob"], how="inner", coalesce=False
        )
        by_name = by_name.filter(_initial("first_name") == _initial("m_first")).join(
            forbid, on=["key", "m_ssn"], how="anti"
        )
        results.append(_unique_hits(by_name, "P", "name_dob_search"))
    out = (
        pl.concat([r.select(list(PERSON_OUT)).cast(PERSON_OUT) for r in results])
        if results
        else pl.DataFrame(schema=PERSON_OUT)
    )
    return persons.select("key").join(out, on="key", how="left")


def simple_verify_ndnh(records: pl.DataFrame, master: pl.DataFrame) -> pl.DataFrame:
    """records: key, ssn, first_name, last_name, dob → key, verification (V/U), verified_ssn."""
    hits = records.join(_master(master), left_on="ssn", right_on="m_ssn", how="inner", coalesce=False)
    dob_eq = (pl.col("dob") == pl.col("m_dob")).fill_null(False)
    ok = name_agrees("first_name", "last_name") | (
        dob_eq
        & ((_l4("last_name") == _l4("m_last")) | (_initial("first_name") == _initial("m_first"))).fill_null(False)
    )
    good = hits.filter(ok).select("key", pl.col("m_ssn").alias("verified_ssn")).unique("key")
    return (
        records.select("key")
        .join(good, on="key", how="left")
        .with_columns(
            pl.when(pl.col("verified_ssn").is_not_null()).then(pl.lit("V")).otherwise(pl.lit("U")).alias("verification")
        )
    )


MATCHABLE = ("V", "C", "E", "P", "S")
PERSON_SCHEMA = ("sex", "street", "city", "state", "zip")


def matchers_verify_persons(
    persons: pl.DataFrame, master: pl.DataFrame | None, misidentified: pl.DataFrame | None = None, prepared=None
) -> pl.DataFrame:
    """Adapter to matchers.verify.verify_ssns (person schema in, validity codes out)."""
    from matchers.verify import verify_ssns

    extra_ssn = [c for c in ("additional_ssn_1", "additional_ssn_2") if c in persons.columns]
    extra_ln = [c for c in ("additional_last_name_1", "additional_last_name_2") if c in persons.columns]
    inp = persons.select(
        pl.col("key").cast(pl.Utf8).alias("id"),
        "ssn",
        "first_name",
        pl.col("middle_name") if "middle_name" in persons.columns else pl.lit(None, dtype=pl.Utf8).alias("middle_name"),
        "last_name",
        pl.col("dob").cast(pl.Date).dt.strftime("%Y-%m-%d").alias("dob"),
        *[
            (pl.col(c) if c in persons.columns else pl.lit(None, dtype=pl.Utf8)).cast(pl.Utf8).alias(c)
            for c in PERSON_SCHEMA
        ],
        pl.col("member_id") if "member_id" in persons.columns else pl.lit(None, dtype=pl.Utf8).alias("member_id"),
        pl.concat_list(extra_ssn).list.drop_nulls().alias("additional_ssns")
        if extra_ssn
        else pl.lit([], dtype=pl.List(pl.Utf8)).alias("additional_ssns"),
        pl.concat_list(extra_ln).list.drop_nulls().alias("additional_last_names")
        if extra_ln
        else pl.lit([], dtype=pl.List(pl.Utf8)).alias("additional_last_names"),
    )
    out, _issues = verify_ssns(
        inp, master, misidentified if misidentified is not None and misidentified.height else None, prepared=prepared
    )
    code = pl.col("ssn_validity")
    res = out.select(
        pl.col("id").cast(pl.Int64).alias("key"),
        pl.when(code == "").then(None).otherwise(code).alias("validity_code"),
        pl.when(code.is_in(MATCHABLE)).then(pl.col("verified_ssn")).alias("verified_ssn"),
        pl.col("evidence").cast(pl.Utf8),
    )
    return persons.select("key").join(res, on="key", how="left")


def _external(name: str):
    try:
        importlib.import_module("matchers.verify")
    except ImportError:
        return None
    return {"verify_fcr_persons": matchers_verify_persons}.get(name)


def fcr_person_kernel(
    persons: pl.DataFrame, master_m: pl.DataFrame, master_keys: pl.DataFrame, misidentified: pl.DataFrame
) -> pl.DataFrame:
    """FCR persons of one partition → key, validity_code, verified_ssn, evidence (row by row: a person's
    answer depends on the master and the misidentified list only, so any partitioning gives the same rows)."""
    return matchers_verify_persons(persons, None, misidentified, (master_m, master_keys))


def ndnh_record_kernel(
    records: pl.DataFrame,
    master_m: pl.DataFrame,
    master_keys: pl.DataFrame,
    registered: pl.DataFrame | None = None,
    history=None,
    confirmed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """NDNH records → key, verification, verified_ssn, rule (pipeline.cycle.ndnhverify, unchanged)."""
    from pipeline.cycle.ndnhverify import verify_ndnh_records

    return verify_ndnh_records(records, (master_m, master_keys), registered, history=history, confirmed=confirmed)


FCR_PERSONS = Kernel("ssn_verification", fcr_person_kernel, key="ssn", out_schema=PERSON_OUT)
NDNH_OUT = {"key": pl.Int64, "verification": pl.Utf8, "verified_ssn": pl.Utf8, "rule": pl.Utf8}
# One partition: rules 5-7 of the NDNH verifier compare a record with this cycle's other records of the same
# employer under a one-digit-different SSN, which an SSN-hash partition would split. Spark runs the same call;
# it partitions by SSN hash once the NDNH kernel over joined record/master pairs (issue 15) lands.
NDNH_RECORDS = Kernel("ndnh_verification", ndnh_record_kernel, key=None, out_schema=NDNH_OUT)


class MasterRef:
    """The SSA master of the store, read and prepared (`matchers.verify.prepare_master`) once and shared by
    the FCR and NDNH stages of a cycle process; the raw frame is not kept. `engine` runs the verification
    kernels against it (pipeline.engine; the embedded one unless the cycle was started with --engine)."""

    def __init__(self, con, engine: Engine | None = None):
        self.con = con
        self.engine = engine or LocalEngine()
        self._prepared = None
        self._fast = None

    def raw(self) -> pl.DataFrame:
        from pipeline.store import frame

        return frame(self.con, "SELECT * EXCLUDE (file_id, line_no) FROM ssa_current ORDER BY ssn")

    def prepared(self):
        if self._prepared is None:
            from matchers.verify import prepare_master

            self._prepared = prepare_master(self.raw())
        return self._prepared

    def fast_reference(self) -> pl.DataFrame:
        """The SSNs the NDNH fast path may verify (`pipeline.cycle.ndnhfast.fast_reference`), built once."""
        if self._fast is None:
            from pipeline.cycle.ndnhfast import fast_reference

            self._fast = fast_reference(self.prepared())
        return self._fast


def verify_persons(
    persons: pl.DataFrame, master: pl.DataFrame | MasterRef, misidentified: pl.DataFrame | None = None
) -> pl.DataFrame:
    fn = _external("verify_fcr_persons")
    if isinstance(master, MasterRef):
        if fn is None:
            return simple_verify_persons(persons, master.raw(), misidentified)
        m, keys = master.prepared()
        if misidentified is None:
            misidentified = pl.DataFrame(schema={"state": pl.Utf8, "member_id": pl.Utf8, "ssn": pl.Utf8})
        sides = {"master_m": m, "master_keys": keys, "misidentified": misidentified}
        return master.engine.run(FCR_PERSONS, persons, sides)
    return (fn or simple_verify_persons)(persons, master, misidentified)


def verify_ndnh(
    records: pl.DataFrame,
    master: pl.DataFrame | MasterRef,
    registered: pl.DataFrame | None = None,
    history=None,
    confirmed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """NDNH records → key, verification (V/U), verified_ssn, rule (see pipeline.cycle.ndnhverify). history: verified NDNH
    records of earlier cycles (employer_fein, verified_ssn, first_name, last_name), or a function of the open
    employers giving them; confirmed: (ssn_key, fn_key, ln_key) confirmed with an exact DOB by records verified
    elsewhere (the fast path)."""
    if _external("verify_fcr_persons") is None:
        raw = master.raw() if isinstance(master, MasterRef) else master
        return simple_verify_ndnh(records, raw).with_columns(pl.lit("simple").alias("rule"))
    from matchers.verify import prepare_master
    from pipeline.cycle.ndnhverify import references_wanted_by_any

    if not isinstance(master, MasterRef):
        return ndnh_record_kernel(records, *prepare_master(master), registered, history, confirmed)
    m, keys = master.prepared()
    if callable(history) and not isinstance(master.engine, LocalEngine):
        history = history(references_wanted_by_any(records))  # a store query cannot travel to an executor
    sides = {"registered": registered, "history": history, "confirmed": confirmed}
    extra = {name: side for name, side in sides.items() if side is not None}
    return master.engine.run(NDNH_RECORDS, records, {"master_m": m, "master_keys": keys, **extra})
