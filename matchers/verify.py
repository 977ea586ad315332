"""SSN verification and identification against the SSA master (DESIGN §8, reference §2f).

Stages, each a join over the whole frame (no per-row Python), in the FCR order. What each stage accepts is
`matchers.evidence`'s (field relations: first / last / middle name, DOB, sex):

1. **exact** — the SSN given (or one of its holder's other SSNs) is on the master: `V` by `evidence.exact_ok`
   (name agreeing with tolerance, or the first name alone with a blank or changed surname, or a first-name typo
   or a blank first name with the surname and middle initial agreeing; DOB exact, within tolerance, one digit
   off or unknown — never disagreeing). A clearly different first name is never `V`: an SSN and a surname are
   what a relative's record shares. `N` when only a probable name match (the surname, or first initial and
   the first four letters of the surname) holds.
2. **correction** — every SSN one substituted digit or one adjacent transposition away (89 variants),
   joined to the master; a candidate needs the name AND a known DOB in tolerance, or, with no DOB on either
   side, the full name agreeing strongly (`evidence.correction_ok`). One person → `C`; several → `R`.
3. **additional data** — each SSN in an optional `additional_ssns` list is tried like stage 1 → `E`.
4. **search** — name + DOB for whoever stages 1-3 did not settle: candidates from `matchers.identify`
   (surname NYSIIS, swapped names or an additional surname with the DOB exact / swapped / ±1 year; first
   name + DOB; full name + two of year, month, day), accepted by tier (`evidence.search_tier`: name + DOB,
   then one typo or one DOB digit, then one name blank). The strongest tier reached decides: one person → `P`
   (`E` when found only through an additional surname); several → `R`, never a guess.

Priority: V > C > E > P > R > N > blank. `S` (IRS-U identification) needs IRS data fpls does not
have and is never produced. A misidentified-participant row (state, member_id, ssn) removes that SSN
from every stage for that member (member_id column, else id; state compared when both sides have it).

Output per input row: id, ssn (as given), ssn_structure (matchers.ssn reason), ssn_validity,
verified_ssn, other_ssns (list), deceased, date_of_death, dob_indicator (E exact, T within tolerance or one
digit off, X disagrees, U unknown, blank when no person chosen) and evidence (stage, candidates, edit, tier).
"""

from __future__ import annotations

import polars as pl

from matchers.evidence import SEARCH_TIERS, agreement, correction_ok, exact_ok, search_tier
from matchers.identify import search_candidates
from matchers.names import normal_name_expr
from matchers.persons import check_persons, parse_dob_expr, prepare_persons
from matchers.ssn import clean_ssn_expr, ssn_variants

__all__ = ["MasterError", "agreement", "exact_ok", "prepare_master", "verify_ssns"]

MASTER_COLUMNS = ("ssn", "first_name", "middle_name", "last_name", "dob", "sex", "date_of_death")
OTHER_SSN_COLUMNS = ("other_ssn_1", "other_ssn_2", "other_ssn_3")
PRIORITY = {"V": 0, "C": 1, "E": 2, "P": 3, "R": 4, "N": 5}
_TIER_NAMES = {i + 1: name for i, name in enumerate(SEARCH_TIERS)}
_P_COLS = ("p", "fn_key", "ln_key", "ln_parts", "mn", "dob_date", "fn_nysiis", "ln_nysiis", "member", "mstate", "sex1")
_M_COLS = ("m", "fn_key", "ln_key", "ln_parts", "mn", "dob_date", "sex1", "grp")


class MasterError(ValueError):
    """The SSA master frame lacks required columns."""


def prepare_master(master: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(normalised master with position m, ssn_keys: every SSN of each master person → m)."""
    missing = [c for c in MASTER_COLUMNS if c not in master.columns]
    if missing:
        raise MasterError(f"SSA master lacks column(s): {', '.join(missing)}")
    others = [c for c in OTHER_SSN_COLUMNS if c in master.columns]

    def as_date(c: str) -> pl.Expr:  # parquet / store: pl.Date; CSV: YYYY-MM-DD or YYYYMMDD text
        if master.schema[c] == pl.Date:
            return pl.col(c)
        return parse_dob_expr(c).alias(c)

    base = master.select(
        pl.col("ssn").cast(pl.Utf8),
        "first_name",
        "middle_name",
        "last_name",
        as_date("dob"),
        "sex",
        as_date("date_of_death"),
        *[pl.col(c).cast(pl.Utf8) for c in others],
        pl.lit(None, pl.Utf8).alias("street"),
        pl.lit(None, pl.Utf8).alias("city"),
        pl.lit(None, pl.Utf8).alias("state"),
        pl.lit(None, pl.Utf8).alias("zip"),
    ).with_row_index("m")
    norm = prepare_persons(base.with_columns(pl.lit("").alias("id")))
    keys = (
        pl.concat(
            [
                norm.select("m", clean_ssn_expr(c).alias("ssn_key"), pl.lit(i > 0).alias("_other"))
                for i, c in enumerate(("ssn", *others))
            ]
        )
        .drop_nulls()
        .unique(["m", "ssn_key"], keep="first", maintain_order=True)
    )
    all_ssns = keys.group_by("m").agg(pl.col("ssn_key").sort().alias("_all_ssns"))
    # A person SSA issued two SSNs can have a master record under each, each listing the other: the SSN
    # resolves to the record that holds it as its own number, and both records are one person (`grp`).
    keys = (
        keys.filter(pl.col("_other") == pl.col("_other").min().over("ssn_key"))
        .select("m", "ssn_key")
        .sort("ssn_key", "m")
    )
    norm = norm.join(all_ssns, on="m", how="left").with_columns(pl.col("_all_ssns").list.first().alias("grp"))
    return norm, keys


def _with_master(frame: pl.DataFrame, M: pl.DataFrame) -> pl.DataFrame:
    return frame.join(
        M.select([pl.col(c).alias(f"{c}_m") if c != "m" else pl.col("m") for c in _M_COLS if c in M.columns]), on="m"
    )


def _with_person(frame: pl.DataFrame, P: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in _P_COLS if c in P.columns] + [c for c in ("extra_ln",) if c in P.columns]
    return frame.join(P.select(cols), on="p")


def _forbidden(frame: pl.DataFrame, mis: pl.DataFrame | None, ssn_col: str) -> pl.DataFrame:
    """Drop (person, SSN) rows that the misidentified-participant list forbids."""
    if mis is None or mis.height == 0:
        return frame
    bad = mis.select(
        pl.col("member_id").cast(pl.Utf8).str.strip_chars().alias("member"),
        clean_ssn_expr("ssn").alias(ssn_col),
        (pl.col("state").cast(pl.Utf8).str.strip_chars() if "state" in mis.columns else pl.lit(None, pl.Utf8)).alias(
            "_bad_state"
        ),
    )
    state_agrees = (
        pl.col("_bad_state").is_null()
        | (pl.col("_bad_state") == "")
        | pl.col("mstate").is_null()
        | (pl.col("mstate") == pl.col("_bad_state"))
    )
    hits = frame.select("p", "member", "mstate", ssn_col).join(bad, on=["member", ssn_col]).filter(state_agrees)
    return frame.join(hits.select("p", ssn_col).unique(), on=["p", ssn_col], how="anti")


def _unique_choice(cands: pl.DataFrame, code: str, stage: str) -> pl.DataFrame:
    """Per person: one distinct master person → `code`; several → R (candidates listed by count)."""
    person = pl.col("grp_m") if "grp_m" in cands.columns else pl.col("m")
    per = (
        cands.sort("p", "m")
        .group_by("p", maintain_order=True)
        .agg(
            person.n_unique().alias("_n"),
            pl.col("m").first(),
            pl.col("ssn_key").first(),
            pl.col("dob_level").first(),
            pl.col("via_additional").all().alias("_via"),
            pl.col("edit").first() if "edit" in cands.columns else pl.lit(None, pl.Utf8).alias("edit"),
            pl.col("tier").first() if "tier" in cands.columns else pl.lit(None, pl.Int8).alias("tier"),
        )
    )
    return per.select(
        "p",
        pl.when(pl.col("_n") > 1)
        .then(pl.lit("R"))
        .when(pl.col("_via") & pl.lit(code == "P"))
        .then(pl.lit("E"))
        .otherwise(pl.lit(code))
        .alias("code"),
        pl.when(pl.col("_n") == 1).then(pl.col("m")).alias("m"),
        pl.when(pl.col("_n") == 1).then(pl.col("ssn_key")).alias("chosen"),
        pl.when(pl.col("_n") == 1).then(pl.col("dob_level")).alias("dob_level"),
        pl.format(
            "stage={} candidates={}{}{}",
            pl.lit(stage),
            pl.col("_n"),
            pl.when(pl.col("edit").is_not_null()).then(pl.lit(" edit=") + pl.col("edit")).otherwise(pl.lit("")),
            pl.when(pl.col("tier").is_not_null())
            .then(pl.lit(" tier=") + pl.col("tier").replace_strict(_TIER_NAMES, return_dtype=pl.Utf8))
            .otherwise(pl.lit("")),
        ).alias("evidence"),
    )


def prepare_input(persons: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    kept, issues = check_persons(persons)
    P = (
        prepare_persons(kept)
        .with_row_index("p")
        .with_columns(
            clean_ssn_expr("ssn").alias("ssn_digits"),
            (pl.col("member_id").cast(pl.Utf8) if "member_id" in kept.columns else pl.col("id"))
            .str.strip_chars()
            .alias("member"),
            pl.col("state").cast(pl.Utf8).str.strip_chars().alias("mstate"),
        )
    )
    if "additional_last_names" in P.columns:
        P = P.with_columns(
            pl.col("additional_last_names")
            .list.eval(normal_name_expr(pl.element()).str.replace_all(" ", ""))
            .alias("extra_ln")
        )
    return P, issues


def verify_ssns(
    persons: pl.DataFrame,
    master: pl.DataFrame | None,
    misidentified: pl.DataFrame | None = None,
    prepared: tuple[pl.DataFrame, pl.DataFrame] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one result row per kept input row, input issues) — see module doc. `prepared` is the result of
    `prepare_master(master)` when the caller already has it (it is then used and `master` ignored)."""
    P, issues = prepare_input(persons)
    M, keys = prepared if prepared is not None else prepare_master(master)
    results = []

    # 1. exact SSN (primary or another SSN of the same holder)
    exact = P.select("p", pl.col("ssn_digits").alias("ssn_key")).drop_nulls().join(keys, on="ssn_key")
    exact = _forbidden(_with_master(_with_person(exact, P), M), misidentified, "ssn_key")
    exact = agreement(exact)
    verified = exact.filter(exact_ok(exact))
    results.append(_unique_choice(verified, "V", "exact_ssn"))
    probable = exact.filter(~exact_ok(exact) & pl.col("name_probable"))
    results.append(_unique_choice(probable, "N", "exact_ssn_name_probable").filter(pl.col("code") != "R"))

    # 2. correction: one wrong digit or one adjacent transposition, name AND known DOB agree. Only for
    # rows the exact stage did not verify (V outranks C), so the 89 variants are built for few rows.
    done = results[0].filter(pl.col("code") == "V").select("p")
    todo = P.join(done, on="p", how="anti")
    variants = ssn_variants(todo, "p", "ssn_digits").rename({"variant": "ssn_key"}).join(keys, on="ssn_key")
    variants = agreement(_forbidden(_with_master(_with_person(variants, P), M), misidentified, "ssn_key"))
    corrected = variants.filter(correction_ok())
    results.append(_unique_choice(corrected, "C", "correction"))

    # 3. additional SSNs supplied with the record
    if "additional_ssns" in P.columns:
        extra = (
            P.select("p", pl.col("additional_ssns").alias("ssn_key"))
            .explode("ssn_key")
            .with_columns(clean_ssn_expr("ssn_key"))
            .drop_nulls()
            .join(keys, on="ssn_key")
        )
        extra = agreement(_forbidden(_with_master(_with_person(extra, P), M), misidentified, "ssn_key"))
        results.append(_unique_choice(extra.filter(exact_ok()), "E", "additional_ssn"))

    # 4. search by name + DOB, for whoever no SSN verified (V, C and E outrank P)
    settled = pl.concat([r.filter(pl.col("code").is_in(["V", "C", "E"])).select("p") for r in results])
    results.append(_search(P.join(settled, on="p", how="anti"), M, misidentified))

    return _assemble(P, M, results), issues


def _search(P: pl.DataFrame, M: pl.DataFrame, mis: pl.DataFrame | None) -> pl.DataFrame:
    """Identification by name + DOB (`matchers.identify` candidates, `matchers.evidence.search_tier`): per person
    the strongest tier any candidate reaches; one master person there → P (E when only through an additional
    surname), several → R. A weaker candidate never competes with a stronger one."""
    cands = search_candidates(P, M).join(M.select("m", pl.col("ssn9").alias("ssn_key")), on="m").drop_nulls("ssn_key")
    cands = agreement(_forbidden(_with_master(_with_person(cands, P), M), mis, "ssn_key"))
    found = cands.with_columns(tier=search_tier()).drop_nulls("tier")
    found = found.filter(pl.col("tier") == pl.col("tier").min().over("p"))
    return _unique_choice(found, "P", "name_dob_search")


def _assemble(P: pl.DataFrame, M: pl.DataFrame, results: list[pl.DataFrame]) -> pl.DataFrame:
    allres = pl.concat([r.select("p", "code", "m", "chosen", "dob_level", "evidence") for r in results])
    best = (
        allres.with_columns(_rank=pl.col("code").replace_strict(PRIORITY, return_dtype=pl.Int8))
        .sort("p", "_rank")
        .group_by("p", maintain_order=True)
        .first()
    )
    out = (
        P.select("p", "id", "ssn", "ssn_reason")
        .join(best, on="p", how="left")
        .join(M.select("m", "date_of_death", "_all_ssns"), on="m", how="left")
    )
    chosen_ok = pl.col("code").is_in(["V", "C", "E", "P"])
    return out.sort("p").select(
        "id",
        "ssn",
        pl.col("ssn_reason").alias("ssn_structure"),
        pl.col("code").fill_null("").alias("ssn_validity"),
        pl.when(chosen_ok).then(pl.col("chosen")).alias("verified_ssn"),
        pl.when(chosen_ok)
        .then(pl.col("_all_ssns").list.set_difference(pl.concat_list(pl.col("chosen"))))
        .otherwise(pl.lit([], pl.List(pl.Utf8)))
        .fill_null(pl.lit([], pl.List(pl.Utf8)))
        .alias("other_ssns"),
        (chosen_ok & pl.col("date_of_death").is_not_null()).fill_null(False).alias("deceased"),
        pl.when(chosen_ok).then(pl.col("date_of_death")).alias("date_of_death"),
        pl.when(pl.col("code").is_in(["V", "C", "E", "P", "N"]))
        .then(pl.col("dob_level").replace("D", "T"))
        .otherwise(pl.lit(""))
        .fill_null("")
        .alias("dob_indicator"),
        pl.col("evidence").fill_null("stage=none no candidate"),
    )
