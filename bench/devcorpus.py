"""A development corpus that nobody on this project wrote: pseudopeople's sample population, in fpls's person schema.

    .venv/bin/python -m bench.devcorpus --seed 1 --year 2021 --out bench/data/dev-s1

pseudopeople (PyPI, IHME) ships a small simulated population of one fictional Washington county ("Anytown") and
noises it per dataset the way real administrative files go wrong (typos, OCR and phonetic errors, nicknames, fake
names such as "Baby", blank cells, swapped day/month, DOB copied from a household member, SSNs of other people,
omitted rows, census duplicates of children...). Its default seed (0) is reserved for independent acceptance:
this module refuses it. Use seeds 1-5 and years other than 2020.

Files written to --out (all person-schema CSVs: `id,ssn,first_name,middle_name,last_name,dob,sex,street,city,state,zip`;
`dob` is YYYY-MM-DD; an empty cell is an unknown value):

    ssa.csv                  LEFT of every link: the SSA master, `generate_social_security(year=max(Y, census year))`
    w2.csv                   RIGHT: W-2 and 1099 forms of tax year Y, `generate_taxes_w2_and_1099(year=Y)`
    census.csv               RIGHT: decennial census (--census-year), ACS and CPS of year Y; no SSN
    truth_w2_ssa.csv         left_id,right_id: the true pairs (same `simulant_id`) ssa → w2
    truth_census_ssa.csv     left_id,right_id: the true pairs ssa → census
    key.csv                  id,source,simulant_id,household_id for every row above (analysis only, never linked on)
    ssa_deaths.csv           id,date_of_death (YYYY-MM-DD) of master rows whose simulant has a death event
    w2_employers.csv         id,tax_form,employer_id,employer_name,employer_street,employer_city,employer_state,
                             employer_zip of every w2 row (for bench/devhome.py's W-4 file)
    corpus.json              seed, years, pseudopeople version, row counts, the commands to link

Which side is which: `fpls link LEFT RIGHT` gives a RIGHT row at most one `match` (its best left row) and lets a LEFT
row match many right rows. The SSA master has one row per person, while one person has several W-2/1099 forms (one
per employer) and may appear in the census, the ACS and the CPS (and twice in the census: pseudopeople's
"duplicate with guardian"), so the SSA master is LEFT and the records to identify are RIGHT:

    fpls link ssa.csv w2.csv --out pairs_w2.csv          # score against truth_w2_ssa.csv
    fpls link ssa.csv census.csv --out pairs_census.csv  # score against truth_census_ssa.csv

Mapping choices (pseudopeople column → person column):

- ids: `<source>-<row number, 6 digits>` in pseudopeople's output order (deterministic for a seed and year):
  `ssa-`, `w2-`, `cen<census year>-`, `acs<Y>-`, `cps<Y>-`. `simulant_id` never appears in a person file.
- ssn: pseudopeople's `ssn` with the dashes removed and nothing else done: noise (a wrong digit, an OCR letter
  such as `712-G0-0540`, a blank) is left for fpls to judge. SSA rows carry no SSN noise in pseudopeople's default
  configuration. W-2 rows are the SSN *as reported*: about 4 % of the forms belong to simulants with no SSA record
  (no SSN of their own); they report another person's SSN (often one in the master) or a made-up one, and have no
  truth row - matching them to the SSN's owner is a false match.
- first_name, last_name: as given (mixed case; fpls normalises). Noise includes nicknames and fake names
  ("Baby", "Child", "Unknown"), which are values, not blanks.
- middle_name: SSA's full `middle_name`; W-2 / census / ACS / CPS only have `middle_initial` (one letter).
- dob: SSA gives `YYYYMMDD`, census/ACS/CPS give `MM/DD/YYYY`; a value of exactly that shape (digits only) is
  rewritten to YYYY-MM-DD as is, even when it is no calendar date (a day/month swap can give month 13..31): the
  matcher decides. A value of another shape (a typo added/dropped a character or put a letter in: `R/07/1948`,
  `197507R`) becomes empty. W-2/1099 forms carry no date of birth at all: `dob` is empty for every w2 row.
- sex: Female → F, Male → M, blank → empty. W-2 forms have no sex: empty.
- street: `street_number street_name unit_number` joined with single spaces (W-2: the `mailing_address_*`
  columns); a W-2 with a PO box and no street gets `PO BOX <po_box>`. The SSA master has no address at all.
- city, state, zip: as given. The sample population is anonymised: every city is "Anytown" and every ZIP "00000"
  (noise turns a few into `4nytown`, `00010`, ...). They are kept verbatim, so address evidence is the street only
  and ZIP-keyed blocking puts everybody in one block; `--blank-placeholder-geo` empties city/zip instead.
- SSA master: pseudopeople gives one row per event (creation, and death for the dead; `event_type` itself is
  noised). One row per `simulant_id` is kept: the row marked `creation` if any, else the earliest `event_date`,
  else the first. The date of death is not in the person schema and is dropped. Its year is the later of Y and
  the census year, so everybody alive in any right-hand file who ever had an SSN is in the master.
- census: the decennial census exists only for 2020/2030/2040 in the sample; the default census year is 2030
  (2020 is the default year, kept for acceptance). Census people born after Y still have SSA rows (the master
  runs to the census year). People who never got an SSN (about 15 %) have no truth row.
- truth: every (SSA row, right row) with the same `simulant_id`. Census duplicates and one person's several W-2s
  give several right rows for one left row.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import polars as pl

PERSON_COLUMNS = ["id", "ssn", "first_name", "middle_name", "last_name", "dob", "sex", "street", "city", "state", "zip"]
DECENNIAL_YEARS = (2020, 2030, 2040)


def _frame(df) -> pl.DataFrame:
    """pandas (categoricals, object dtypes, NaN) → polars, every column text, blanks null."""
    out = df.copy()
    for c in out.columns:
        out[c] = out[c].astype("object").where(out[c].notna(), None).map(lambda v: None if v is None else str(v))
    frame = pl.from_pandas(out, schema_overrides={c: pl.Utf8 for c in out.columns})
    return frame.with_columns(pl.all().str.strip_chars()).with_columns(
        pl.when(pl.all() == "").then(None).otherwise(pl.all()).name.keep()
    )


def _col(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, pl.Utf8)


def _join_street(*parts: pl.Expr) -> pl.Expr:
    s = pl.concat_str(list(parts), separator=" ", ignore_nulls=True).str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def _dob_mdy(c: str) -> pl.Expr:
    m = pl.col(c).str.extract_groups(r"^(\d{2})/(\d{2})/(\d{4})$")
    return pl.when(pl.col(c).str.contains(r"^\d{2}/\d{2}/\d{4}$")).then(
        pl.concat_str([m.struct.field("3"), m.struct.field("1"), m.struct.field("2")], separator="-")
    )


def _dob_ymd8(c: str) -> pl.Expr:
    return pl.when(pl.col(c).str.contains(r"^\d{8}$")).then(
        pl.concat_str([pl.col(c).str.slice(0, 4), pl.col(c).str.slice(4, 2), pl.col(c).str.slice(6, 2)], separator="-")
    )


def _sex(c: str) -> pl.Expr:
    return pl.col(c).replace_strict({"Female": "F", "Male": "M"}, default=None, return_dtype=pl.Utf8)


def _with_ids(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
    return (
        frame.with_row_index("_n", offset=1)
        .with_columns((pl.lit(prefix + "-") + pl.col("_n").cast(pl.Utf8).str.zfill(6)).alias("id"))
        .drop("_n")
    )


def ssa_master(raw: pl.DataFrame) -> pl.DataFrame:
    ranked = raw.with_row_index("_row").with_columns(
        (pl.col("event_type") != "creation").fill_null(True).alias("_not_creation")
    )
    one = (
        ranked.sort(["_not_creation", "event_date", "_row"], nulls_last=True)
        .unique("simulant_id", keep="first", maintain_order=True)
        .sort("_row")
    )
    one = _with_ids(one, "ssa")
    return one.select(
        "id",
        pl.col("ssn").str.replace_all("-", "").alias("ssn"),
        "first_name",
        "middle_name",
        "last_name",
        _dob_ymd8("date_of_birth").alias("dob"),
        _sex("sex").alias("sex"),
        pl.lit(None, pl.Utf8).alias("street"),
        pl.lit(None, pl.Utf8).alias("city"),
        pl.lit(None, pl.Utf8).alias("state"),
        pl.lit(None, pl.Utf8).alias("zip"),
        "simulant_id",
        pl.lit(None, pl.Utf8).alias("household_id"),
        pl.lit("ssa").alias("source"),
    )


def ssa_deaths(raw: pl.DataFrame, master: pl.DataFrame) -> pl.DataFrame:
    """Date of death per master row: the earliest well-formed event_date of a `death` event of its simulant."""
    deaths = (
        raw.filter(pl.col("event_type") == "death")
        .select("simulant_id", _dob_ymd8("event_date").alias("date_of_death"))
        .drop_nulls()
        .group_by("simulant_id")
        .agg(pl.col("date_of_death").min())
    )
    return master.join(deaths, on="simulant_id").select("id", "date_of_death").sort("id")


def w2_employers(raw: pl.DataFrame) -> pl.DataFrame:
    raw = _with_ids(raw, "w2")
    return raw.select(
        "id",
        "tax_form",
        "employer_id",
        "employer_name",
        _join_street(
            pl.col("employer_street_number"), pl.col("employer_street_name"), _col(raw, "employer_unit_number")
        ).alias("employer_street"),
        "employer_city",
        "employer_state",
        pl.col("employer_zipcode").alias("employer_zip"),
    )


def w2_forms(raw: pl.DataFrame) -> pl.DataFrame:
    raw = _with_ids(raw, "w2")
    street = _join_street(
        pl.col("mailing_address_street_number"),
        pl.col("mailing_address_street_name"),
        pl.col("mailing_address_unit_number"),
    )
    po_box = pl.when(pl.col("mailing_address_po_box").is_not_null()).then(
        pl.lit("PO BOX ") + pl.col("mailing_address_po_box").str.replace(r"\.0$", "")
    )
    return raw.select(
        "id",
        pl.col("ssn").str.replace_all("-", "").alias("ssn"),
        "first_name",
        pl.col("middle_initial").alias("middle_name"),
        "last_name",
        pl.lit(None, pl.Utf8).alias("dob"),
        pl.lit(None, pl.Utf8).alias("sex"),
        pl.coalesce(street, po_box).alias("street"),
        pl.col("mailing_address_city").alias("city"),
        pl.col("mailing_address_state").alias("state"),
        pl.col("mailing_address_zipcode").alias("zip"),
        "simulant_id",
        _col(raw, "household_id").alias("household_id"),
        pl.lit("w2").alias("source"),
    )


def survey_persons(raw: pl.DataFrame, prefix: str) -> pl.DataFrame:
    raw = _with_ids(raw, prefix)
    return raw.select(
        "id",
        pl.lit(None, pl.Utf8).alias("ssn"),
        "first_name",
        pl.col("middle_initial").alias("middle_name"),
        "last_name",
        _dob_mdy("date_of_birth").alias("dob"),
        _sex("sex").alias("sex"),
        _join_street(pl.col("street_number"), pl.col("street_name"), _col(raw, "unit_number")).alias("street"),
        "city",
        "state",
        pl.col("zipcode").alias("zip"),
        "simulant_id",
        _col(raw, "household_id").alias("household_id"),
        pl.lit(prefix).alias("source"),
    )


def truth(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    return (
        left.select(pl.col("id").alias("left_id"), "simulant_id")
        .join(right.select(pl.col("id").alias("right_id"), "simulant_id"), on="simulant_id")
        .select("left_id", "right_id")
        .sort("right_id")
    )


def build(seed: int, year: int, census_year: int, out: Path, blank_geo: bool = False, no_noise: bool = False) -> dict:
    if seed == 0:
        raise SystemExit("seed 0 is pseudopeople's default and is kept for independent acceptance: use 1-5")
    if census_year not in DECENNIAL_YEARS:
        raise SystemExit(f"--census-year must be one of {DECENNIAL_YEARS} (the sample's decennial censuses)")
    warnings.filterwarnings("ignore")
    import pseudopeople as psp

    config = psp.NO_NOISE if no_noise else None
    t0 = time.perf_counter()
    ssa_year = max(year, census_year)
    kw = dict(seed=seed, config=config)
    ssa_raw = _frame(psp.generate_social_security(year=ssa_year, **kw))
    ssa = ssa_master(ssa_raw)
    w2_raw = _frame(psp.generate_taxes_w2_and_1099(year=year, **kw))
    w2 = w2_forms(w2_raw)
    parts = [survey_persons(_frame(psp.generate_decennial_census(year=census_year, **kw)), f"cen{census_year}")]
    for fn, prefix in (
        (psp.generate_american_community_survey, f"acs{year}"),
        (psp.generate_current_population_survey, f"cps{year}"),
    ):
        try:
            parts.append(survey_persons(_frame(fn(year=year, **kw)), prefix))
        except ValueError as exc:  # no survey rows in that year of the sample
            print(f"{prefix}: skipped ({exc})", file=sys.stderr)
    census = pl.concat(parts)
    if blank_geo:
        w2, census = (
            f.with_columns(pl.lit(None, pl.Utf8).alias("city"), pl.lit(None, pl.Utf8).alias("zip"))
            for f in (w2, census)
        )
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (("ssa", ssa), ("w2", w2), ("census", census)):
        frame.select(PERSON_COLUMNS).write_csv(out / f"{name}.csv")
    t_w2, t_census = truth(ssa, w2), truth(ssa, census)
    t_w2.write_csv(out / "truth_w2_ssa.csv")
    t_census.write_csv(out / "truth_census_ssa.csv")
    pl.concat([f.select("id", "source", "simulant_id", "household_id") for f in (ssa, w2, census)]).write_csv(
        out / "key.csv"
    )
    ssa_deaths(ssa_raw, ssa).write_csv(out / "ssa_deaths.csv")
    w2_employers(w2_raw).write_csv(out / "w2_employers.csv")
    summary = {
        "seed": seed,
        "year": year,
        "census_year": census_year,
        "ssa_year": ssa_year,
        "noise": not no_noise,
        "blank_placeholder_geo": blank_geo,
        "pseudopeople": psp.__version__,
        "rows": {
            "ssa": ssa.height,
            "w2": w2.height,
            "census": census.height,
            **{p["source"][0]: p.height for p in parts},
        },
        "truth_pairs": {"w2_ssa": t_w2.height, "census_ssa": t_census.height},
        "right_rows_without_truth": {
            "w2": w2.height - t_w2["right_id"].n_unique(),
            "census": census.height - t_census["right_id"].n_unique(),
        },
        "link": {
            "w2": "fpls link ssa.csv w2.csv --out pairs_w2.csv",
            "census": "fpls link ssa.csv census.csv --out pairs_census.csv",
        },
        "seconds": round(time.perf_counter() - t0, 2),
    }
    (out / "corpus.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True, help="pseudopeople seed (1-5; 0 is refused)")
    ap.add_argument("--year", type=int, default=2021, help="tax year of the W-2s, year of ACS/CPS (default 2021)")
    ap.add_argument("--census-year", type=int, default=2030, help="decennial census year (default 2030)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument(
        "--blank-placeholder-geo", action="store_true", help="empty city and ZIP (the sample's are all Anytown / 00000)"
    )
    ap.add_argument("--no-noise", action="store_true", help="pseudopeople.NO_NOISE (debugging only)")
    args = ap.parse_args(argv)
    print(
        json.dumps(
            build(args.seed, args.year, args.census_year, args.out, args.blank_placeholder_geo, args.no_noise), indent=2
        )
    )


if __name__ == "__main__":
    main()
