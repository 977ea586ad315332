"""NDNH record verification (DESIGN §8, NDNH practice): W-4 / QW / UI SSNs against the SSA master.

A record is *verified* (V) when one of these holds, tried in order on what is still unverified. Every rule that
compares names uses `matchers.evidence` (the same relations as SSN verification): a clearly different first
name never verifies on the SSN and surname alone, whatever the reference (an SSN is shared in households).

1. `exact_ssn` — its SSN (or another SSN SSA issued to the same person) is on the master and
   `matchers.evidence.exact_ok` accepts the pair: the name agrees with tolerance (nickname, Jaro-Winkler >= 0.9,
   initial, swapped first/last, surname part, a surname typo); or the whole first name agrees and the surname is
   blank or changed; or a first-name typo or a blank first name with the surname and middle initial agreeing;
   or the DOB agrees with the first name; the DOB (QW / UI carry none) never disagreeing.
2. `registered_name` — second reference: the SSN is the verified SSN of FCR persons and the record's
   name agrees (same tolerance, DOB not disagreeing) with a name a state registered for that person:
   the FCR name or its additional names (birth / married surnames). SSA confirmed the SSN belongs to the
   person the state registered under those names.
3. `correction` — W-4 and UI only (NDNH does not correct QW SSNs against the master): one wrong digit or
   two adjacent digits transposed, when the name agrees and a known DOB agrees within tolerance, or, with no
   DOB, the full name agrees strongly (`matchers.evidence.correction_ok`), with exactly one master person
   (several candidates: not corrected, never a guess).
4. `name_dob_search` — W-4 / UI with a DOB whose SSN still fails: identification by name + DOB
   (`matchers.verify` search and its tiers), only when exactly one master person fits the strongest tier reached.
5. `confirmed_name` — third reference, NDNH's own: the same SSN with exactly the same (normalised) first
   and last name as another record of the cycle that SSA verified with an exact DOB (a W-4 under a
   married surname SSA has not recorded yet verifies by SSN + DOB + first initial; the person's QW records
   under that same name, which rule 1 finds too weak without a DOB, then verify too).
6. `employer_name` — fourth reference, the employer's: the record's own SSN is the verified SSN of another
   record of the same employer (FEIN; this cycle's records verified by rules 1-5, or a verified record of
   an earlier cycle within 12 months) and the name agrees with that record's name (same tolerance) or the
   first name is the same (a surname change that SSA, the state and the other record each know differently).
7. `employer_correction:<edit>` — a QW cannot be corrected against the master (rule 3), nor can a W-4 whose
   name is not strong enough there, but the employer's other records are evidence: the SSN is one wrong digit or two adjacent digits
   transposed away from the verified SSN of a record of the same employer (as in rule 6) whose name agrees
   (same tolerance), and exactly one such SSN exists (several: not corrected, never a guess).

Rules 6 and 7 need the records' `employer_fein` (records without one, e.g. UI, never use them) and use no
record verified by rule 6 or 7 as a reference (no chains).

Anything else stays unverified (U), as NDNH keeps it: posted, but never matched. Records are processed
in chunks against one prepared master, so memory is bounded by the chunk, not the cycle.

Rules 1 and 2 are `matchers.kernel.decide_pairs` (records joined to the candidates holding their SSN → one
decision with its evidence per record, no store access), the function a Spark engine calls per SSN partition.
In the cycle, `pipeline.cycle.ndnhfast` settles in the store first the records that carry the master's own SSN,
first and last name (rule 1, same decision); this module sees the others.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from matchers.evidence import agreement, correction_ok
from matchers.kernel import candidate_pairs, decide_pairs, record_keys
from matchers.names import add_phonetics
from matchers.persons import prepare_persons
from matchers.ssn import clean_ssn_expr, ssn_variants
from matchers.verify import _search, _with_master, _with_person, prepare_input

CHUNK = 500_000
VARIANT_CHUNK = 25_000  # records whose 89 SSN variants are joined at once (rule 7)
CORRECTABLE = ("H99", "H97")
CONFIRMED = ("ssn_key", "fn_key", "ln_key")  # W-4, UI (not QW H98)
OUT = {"key": pl.Int64, "verification": pl.Utf8, "verified_ssn": pl.Utf8, "rule": pl.Utf8}
_NULL_PERSON = ("sex", "street", "city", "state", "zip")


def person_input(records: pl.DataFrame) -> pl.DataFrame:
    dob = pl.col("dob")
    return records.select(
        pl.col("key").cast(pl.Utf8).alias("id"),
        pl.col("ssn").cast(pl.Utf8),
        "first_name",
        (pl.col("middle_name") if "middle_name" in records.columns else pl.lit(None, pl.Utf8)).alias("middle_name"),
        "last_name",
        (dob.cast(pl.Date).dt.strftime("%Y-%m-%d") if records.schema["dob"] != pl.Utf8 else dob).alias("dob"),
        *[pl.lit(None, pl.Utf8).alias(c) for c in _NULL_PERSON],
        (pl.col("source") if "source" in records.columns else pl.lit(None, pl.Utf8)).alias("source"),
    )


def registered_reference(fcr: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """FCR persons with a verified SSN → (names frame with position m, keys ssn_key → m).
    fcr: verified_ssn, first_name, last_name, dob, additional_first_name_1/2, additional_last_name_1/2."""
    if fcr is None or fcr.is_empty():
        return None
    parts = [fcr.select(pl.col("verified_ssn").alias("ssn"), "first_name", "last_name", "dob")]
    for i in (1, 2):
        fc, lc = f"additional_first_name_{i}", f"additional_last_name_{i}"
        if lc in fcr.columns:
            first = pl.coalesce(pl.col(fc), pl.col("first_name")) if fc in fcr.columns else pl.col("first_name")
            parts.append(
                fcr.filter(pl.col(lc).is_not_null()).select(
                    pl.col("verified_ssn").alias("ssn"), first.alias("first_name"), pl.col(lc).alias("last_name"), "dob"
                )
            )
    names = pl.concat([p.cast({"dob": pl.Date}) for p in parts]).drop_nulls("ssn").unique(maintain_order=True)
    names = names.sort("ssn", "last_name", "first_name", "dob", nulls_last=True).with_columns(
        pl.lit(None, pl.Utf8).alias("middle_name"),
        *[pl.lit(None, pl.Utf8).alias(c) for c in _NULL_PERSON],
        pl.lit("").alias("id"),
    )
    R = prepare_persons(names).with_row_index("m")
    return R, R.select("m", clean_ssn_expr("ssn").alias("ssn_key")).drop_nulls()


def _verify_chunk(
    recs: pl.DataFrame, M: pl.DataFrame, keys: pl.DataFrame, reg: tuple[pl.DataFrame, pl.DataFrame] | None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(verified: key, verified_ssn, rule; names confirmed with an exact DOB: ssn_key, fn_key, ln_key;
    still unverified: key, ssn_key, fn_key, ln_key). Rules 1 and 2 are `matchers.kernel.decide_pairs` over the
    records joined to the candidates holding their SSN; records are `p` = key."""
    K = record_keys(recs).with_columns(pl.col("key").alias("p"))
    found = []
    exact = decide_pairs(candidate_pairs(K, M, keys))
    confirmed = exact.filter(pl.col("confirmed")).join(K.select("key", "fn_key", "ln_key"), on="key")
    confirmed = confirmed.select("ssn_key", "fn_key", "ln_key")
    got = exact.filter(pl.col("accepted")).select(
        pl.col("key").alias("p"), "ssn_key", pl.lit("exact_ssn").alias("rule")
    )
    found.append(got)
    rest = K.join(got.select("p"), on="p", how="anti")
    if reg is not None and rest.height:
        R, rkeys = reg
        cand = decide_pairs(candidate_pairs(rest, R, rkeys)).filter(pl.col("accepted"))
        got = cand.select(pl.col("key").alias("p"), "ssn_key", pl.lit("registered_name").alias("rule"))
        found.append(got)
        rest = rest.join(got.select("p"), on="p", how="anti")
    fixable = rest.filter(pl.col("source").is_in(CORRECTABLE))
    if fixable.height:
        var = ssn_variants(fixable, "p", "ssn_key").rename({"variant": "ssn_key"}).join(keys, on="ssn_key")
        var = agreement(_with_master(_with_person(var, fixable), M))
        var = var.filter(correction_ok())
        one = (
            var.sort("p", "m")
            .group_by("p", maintain_order=True)
            .agg(pl.col("grp_m").n_unique().alias("_n"), pl.col("ssn_key").first(), pl.col("edit").first())
        )
        got = one.filter(pl.col("_n") == 1).select("p", "ssn_key", ("correction:" + pl.col("edit")).alias("rule"))
        found.append(got)
        fixable = fixable.join(got.select("p"), on="p", how="anti").filter(pl.col("dob_date").is_not_null())
    if fixable.height:  # identification by name + DOB when the SSN fails (unique person only)
        fixable = add_phonetics(add_phonetics(fixable, "fn_key", "fn", ("nysiis",)), "ln_key", "ln", ("nysiis",))
        got = _search(fixable, M, None).filter(pl.col("code") == "P")
        found.append(got.select("p", pl.col("chosen").alias("ssn_key"), pl.lit("name_dob_search").alias("rule")))
    res = pl.concat([f.select("p", "ssn_key", "rule") for f in found])
    rest = K.join(res.select("p"), on="p", how="anti").select("key", "ssn_key", "fn_key", "ln_key").drop_nulls()
    return (
        res.select(pl.col("p").alias("key"), pl.col("ssn_key").alias("verified_ssn"), "rule"),
        confirmed.drop_nulls().unique(),
        rest,
    )


def _registered_alias(res: pl.DataFrame, M: pl.DataFrame, registered: pl.DataFrame | None) -> pl.DataFrame:
    """A record verified to one of a person's SSNs (SSA issued the person several) takes the person's other
    SSN when that one is what the states registered and this one is not, so it meets the FCR person."""
    if registered is None or registered.is_empty() or res.is_empty() or "_all_ssns" not in M.columns:
        return res
    fcr = registered.select(pl.col("verified_ssn").alias("alt")).drop_nulls().unique()
    groups = M.select("_all_ssns").filter(pl.col("_all_ssns").list.len() > 1)
    pairs = (
        groups.select(pl.col("_all_ssns").alias("verified_ssn"), pl.col("_all_ssns").alias("alt"))
        .explode("verified_ssn")
        .explode("alt")
        .filter(pl.col("verified_ssn") != pl.col("alt"))
    )
    pairs = pairs.join(fcr, on="alt", how="semi").join(
        fcr.rename({"alt": "verified_ssn"}), on="verified_ssn", how="anti"
    )
    alias = pairs.group_by("verified_ssn").agg(pl.col("alt").min())
    return (
        res.join(alias, on="verified_ssn", how="left")
        .with_columns(pl.coalesce("alt", "verified_ssn").alias("verified_ssn"))
        .drop("alt")
    )


def _name_keys(names: pl.DataFrame) -> pl.DataFrame:
    """key, first_name, last_name → key, fn_key, ln_key, ln_parts (the normalisation of `prepare_input`)."""
    P, _ = prepare_input(
        person_input(
            names.select(
                "key", pl.lit(None, pl.Utf8).alias("ssn"), "first_name", "last_name", pl.lit(None, pl.Date).alias("dob")
            )
        )
    )
    return P.select(pl.col("id").cast(pl.Int64).alias("key"), "fn_key", "ln_key", "ln_parts").drop_nulls(
        ["fn_key", "ln_key"]
    )


_B = 1_000_000_000  # employer code * _B + SSN: one Int64 join key per (employer, SSN)


def _ssn_int(col: str) -> pl.Expr:
    ssn = clean_ssn_expr(col)
    return pl.when(ssn.str.contains(r"^\d{9}$")).then(ssn).cast(pl.Int64, strict=False)


def _variant_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """key, e, s (SSN as an integer) → key, k (e * _B + variant), edit: the 81 one-digit substitutions and the
    8 adjacent transpositions of s (as `matchers.ssn.ssn_variants`, in integer arithmetic), s itself excluded."""
    s = pl.col("s")

    def digit(i: int) -> pl.Expr:
        return (s // 10 ** (8 - i)) % 10

    edits = (
        ("one_digit", [s + (d - digit(i)) * 10 ** (8 - i) for i in range(9) for d in range(10)]),
        ("transposition", [s + (digit(i + 1) - digit(i)) * (10 ** (8 - i) - 10 ** (7 - i)) for i in range(8)]),
    )
    return pl.concat(
        [
            frame.select("key", "e", "s", pl.concat_list(exprs).alias("v"))
            .explode("v")
            .filter(pl.col("v") != s)
            .select("key", (pl.col("e") * _B + pl.col("v")).alias("k"), pl.lit(edit).alias("edit"))
            for edit, exprs in edits
        ]
    )


History = pl.DataFrame | Callable[[pl.DataFrame], pl.DataFrame] | None


def references_wanted_by_any(records: pl.DataFrame) -> pl.DataFrame:
    """wanted_references as if every record with an employer were still open: a superset that gives the same
    decisions, for an engine that cannot call back into the store once the kernel runs."""
    if "employer_fein" not in records.columns:
        return pl.DataFrame(schema={"employer_fein": pl.Utf8, "verified_ssn": pl.Utf8})
    return wanted_references(records, records.select("key", pl.col("employer_fein").cast(pl.Utf8)).drop_nulls())


def wanted_references(records: pl.DataFrame, open_emp: pl.DataFrame) -> pl.DataFrame:
    """employer_fein, verified_ssn: the (employer, SSN) a reference must have to be a candidate of an open record —
    its own SSN (rule 6) or one of its 89 one-edit variants (rule 7)."""
    own = records.select("key", clean_ssn_expr("ssn").alias("ssn")).join(open_emp, on="key")
    variants = ssn_variants(own, "key", "ssn").join(own.select("key", "employer_fein"), on="key")
    return (
        pl.concat(
            [
                own.select("employer_fein", pl.col("ssn").alias("verified_ssn")),
                variants.select("employer_fein", pl.col("variant").alias("verified_ssn")),
            ]
        )
        .drop_nulls()
        .unique()
    )


def _employer_rules(records: pl.DataFrame, res: pl.DataFrame, history: History) -> pl.DataFrame:
    """6. `employer_name` and 7. `employer_correction:<edit>` (module doc) for the records still unverified in `res`
    → key, verified_ssn, rule. References: this cycle's verified records (key >= 0) and `history` rows (key < 0),
    joined on one integer key per (employer, SSN); names are normalised only for the records still open and the
    references that are candidates."""
    empty = pl.DataFrame(schema={"key": pl.Int64, "verified_ssn": pl.Utf8, "rule": pl.Utf8})
    if "employer_fein" not in records.columns:
        return empty
    fein = pl.col("employer_fein").cast(pl.Utf8)
    # only the employers of the records still open can hold a reference for them
    open_emp = records.select("key", fein).drop_nulls("employer_fein").join(res.select("key"), on="key", how="anti")
    if open_emp.is_empty():
        return empty
    feins = open_emp.select("employer_fein").unique()
    emp = [records.select("key", fein).join(feins, on="employer_fein", how="semi")]
    hist = None
    if callable(history):  # the caller reads only the references that can match: same employer, SSN ≤ 1 edit away
        history = history(wanted_references(records, open_emp))
    if history is not None and not history.is_empty():
        hist = (
            history.select(fein, pl.col("verified_ssn").cast(pl.Utf8), "first_name", "last_name")
            .drop_nulls(["employer_fein", "verified_ssn"])
            .unique(maintain_order=True)
        )
        hist = hist.with_columns((-1 - pl.int_range(pl.len(), dtype=pl.Int64)).alias("key"))
        hist = hist.join(feins, on="employer_fein", how="semi")
        emp.append(hist.select("key", "employer_fein"))
    emp = (
        pl.concat(emp)
        .filter(pl.col("employer_fein").is_not_null())
        .select(  # employer code e
            "key", pl.col("employer_fein").cast(pl.Categorical).to_physical().cast(pl.Int64).alias("e")
        )
    )
    verified = res.select("key", "verified_ssn").join(emp.select("key"), on="key", how="semi")
    if hist is not None:
        verified = pl.concat([verified, hist.select("key", "verified_ssn")])
    ref = (
        verified.join(emp, on="key")
        .select(pl.col("key").alias("rkey"), (pl.col("e") * _B + _ssn_int("verified_ssn")).alias("k"), "verified_ssn")
        .drop_nulls("k")
    )
    open_ = records.join(open_emp, on="key", how="semi")
    if open_.is_empty() or ref.is_empty():
        return empty
    P = (
        _name_keys(open_)
        .join(emp, on="key")
        .join(open_.select("key", _ssn_int("ssn").alias("s")), on="key")
        .drop_nulls("s")
    )
    lookup = ref.select("rkey", "k")
    cands = [
        P.select("key", (pl.col("e") * _B + pl.col("s")).alias("k"), pl.lit("same").alias("edit")).join(lookup, on="k")
    ]
    for i in range(0, P.height, VARIANT_CHUNK):  # 89 variants a record: joined in bounded slices
        cands.append(_variant_keys(P.slice(i, VARIANT_CHUNK)).join(lookup, on="k"))
    cand = pl.concat(cands).join(ref.select("rkey", "verified_ssn"), on="rkey").drop("k")
    raw = records.select("key", "first_name", "last_name").join(
        cand.select(pl.col("rkey").alias("key")), on="key", how="semi"
    )
    if hist is not None:
        raw = pl.concat(
            [
                raw,
                hist.select("key", "first_name", "last_name").join(
                    cand.select(pl.col("rkey").alias("key")), on="key", how="semi"
                ),
            ]
        )
    names_m = _name_keys(raw).select(
        pl.col("key").alias("rkey"), *[pl.col(c).alias(f"{c}_m") for c in ("fn_key", "ln_key", "ln_parts")]
    )
    pairs = agreement(
        cand.join(P.select("key", "fn_key", "ln_key", "ln_parts"), on="key")
        .join(names_m, on="rkey")
        .with_columns(pl.lit(None, pl.Date).alias("dob_date"), pl.lit(None, pl.Date).alias("dob_date_m"))
    )
    # 6. its own SSN, verified for a record of the same employer under an agreeing name or the same first name
    same = pairs.filter((pl.col("edit") == "same") & (pl.col("name_ok") | (pl.col("fn_key") == pl.col("fn_key_m"))))
    same = same.group_by("key").agg(pl.col("verified_ssn").first())
    # 7. one digit / two adjacent digits away from exactly one SSN verified there under an agreeing name
    fixed = pairs.filter((pl.col("edit") != "same") & pl.col("name_ok")).join(same, on="key", how="anti")
    fixed = (
        fixed.group_by("key")
        .agg(pl.col("verified_ssn").n_unique().alias("_n"), pl.col("verified_ssn").min(), pl.col("edit").min())
        .filter(pl.col("_n") == 1)
    )
    return pl.concat(
        [
            same.select("key", "verified_ssn", pl.lit("employer_name").alias("rule")),
            fixed.select("key", "verified_ssn", ("employer_correction:" + pl.col("edit")).alias("rule")),
        ]
    )


def verify_ndnh_records(
    records: pl.DataFrame,
    prepared: tuple[pl.DataFrame, pl.DataFrame],
    registered: pl.DataFrame | None = None,
    chunk: int = CHUNK,
    history: History = None,
    confirmed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """records: key, ssn, first/middle/last name, dob, source, optionally employer_fein → key, verification (V/U),
    verified_ssn, rule. history: verified NDNH records of earlier cycles (employer_fein, verified_ssn, first_name,
    last_name), employer references for rules 6 and 7 besides this cycle's verified records; or a function from a
    frame of (employer_fein, verified_ssn) that can be references of the records still open to those rows. confirmed: ssn_key,
    fn_key, ln_key that records verified elsewhere confirmed with an exact DOB (rule 5), besides these records'."""
    M, keys = prepared
    reg = registered_reference(registered)
    parts = [_verify_chunk(records.slice(i, chunk), M, keys, reg) for i in range(0, records.height, chunk)]
    res = (
        pl.concat([p[0] for p in parts])
        if parts
        else pl.DataFrame(schema={"key": pl.Int64, "verified_ssn": pl.Utf8, "rule": pl.Utf8})
    )
    if parts:  # 5. the same SSN + exact name keys as a record of this cycle that SSA confirmed with its DOB
        confirmed = pl.concat([p[1] for p in parts] + ([confirmed.select(CONFIRMED)] if confirmed is not None else []))
        confirmed = confirmed.unique()
        same_name = pl.concat([p[2] for p in parts]).join(confirmed, on=["ssn_key", "fn_key", "ln_key"], how="semi")
        res = pl.concat(
            [
                res,
                same_name.select(
                    "key", pl.col("ssn_key").alias("verified_ssn"), pl.lit("confirmed_name").alias("rule")
                ),
            ]
        )
        del parts, confirmed, same_name
        res = pl.concat([res, _employer_rules(records, res, history)])  # 6 / 7: the employer's other records
    res = _registered_alias(res, M, registered)
    return (
        records.select("key")
        .join(res, on="key", how="left")
        .select(
            "key",
            pl.when(pl.col("verified_ssn").is_not_null())
            .then(pl.lit("V"))
            .otherwise(pl.lit("U"))
            .alias("verification"),
            "verified_ssn",
            "rule",
        )
        .cast(OUT)
    )
