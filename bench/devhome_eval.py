"""Scores of a dev-home cycle (bench/devhome.py) over what a careful clerk could find, besides `fpls eval`'s all-pairs
figures.

    .venv/bin/python -m bench.devhome_eval --home /tmp/dh1 [--json]

`fpls eval` counts every true pair, including pairs no one could link from the records as sent (a W-4 carrying an
unrelated SSN and no DOB, an FCR person whose DOB is blank, a master record the layout rejects). The clerk's sets:

- **FCR identification** (the dev home's FCR persons carry no SSN): the FP record was loaded (valid, action A) and
  the true person has a loaded SSA master record; name + DOB being the only way in, both DOBs are known and the
  state's DOB points to the person: equal to SSA's, or within the tolerances DESIGN §8 and issue 15 name (±1 year,
  day and month swapped, one digit wrong). A DOB copied from a relative (pseudopeople's household noise) is no
  evidence a clerk could use. `clerk_any_dob` relaxes that to "both DOBs are dates" (the issue's first reading).
  TP: the chosen SSN is the person's master SSN.
- **NDNH locate**: a pair (FCR person, W-4) of the same true person where the FCR person is in the identification set
  above, the W-4 was loaded and its SSN is the person's master SSN or one edit from it (one digit, or two adjacent
  digits swapped: a W-4 has no DOB, so a clerk needs the SSN, or a one-digit typo of it confirmed by the full name).

Precision is always over every decision the cycle made (a wrong match anywhere counts); recall over the clerk's set;
F1 from the two. `all` repeats the figures over every true pair (as `fpls eval`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl

from pipeline import store
from pipeline.store import frame


def _truth(home: Path) -> pl.DataFrame:
    t = pl.read_parquet(home / "truth.parquet")
    return t.select(
        pl.col("file").alias("file_name"),
        pl.col("line").cast(pl.Int64).alias("line_no"),
        "person_id",
        "expect_reject",
    )


def _one_edit(a: str, b: str) -> pl.Expr:
    """b equals a, or differs in one digit, or is a with two adjacent digits swapped (9-digit text)."""
    x, y = pl.col(a), pl.col(b)
    diff = pl.sum_horizontal([(x.str.slice(i, 1) != y.str.slice(i, 1)).cast(pl.Int8) for i in range(9)])
    swap = pl.any_horizontal(
        [
            (x.str.slice(i, 1) == y.str.slice(i + 1, 1))
            & (x.str.slice(i + 1, 1) == y.str.slice(i, 1))
            & (x.str.slice(0, i) == y.str.slice(0, i))
            & (x.str.slice(i + 2) == y.str.slice(i + 2))
            for i in range(8)
        ]
    )
    return ((x.str.len_chars() == 9) & (y.str.len_chars() == 9) & ((diff <= 1) | swap)).fill_null(False)


def _dob_usable(a: str, b: str) -> pl.Expr:
    """Both dates known and equal, one year apart with month and day equal, day and month swapped, or one of the
    eight digits of YYYYMMDD different."""
    x, y = pl.col(a), pl.col(b)
    sx, sy = x.dt.strftime("%Y%m%d"), y.dt.strftime("%Y%m%d")
    digits = pl.sum_horizontal([(sx.str.slice(i, 1) != sy.str.slice(i, 1)).cast(pl.Int8) for i in range(8)])
    year = ((x.dt.year() - y.dt.year()).abs() == 1) & (x.dt.month() == y.dt.month()) & (x.dt.day() == y.dt.day())
    swap = (x.dt.year() == y.dt.year()) & (x.dt.month() == y.dt.day()) & (x.dt.day() == y.dt.month())
    return ((digits <= 1) | year | swap).fill_null(False)


def _prf(tp: int, fp: int, fn: int, tp_all: int | None = None) -> dict:
    """precision from tp_all (every right decision) and fp; recall from tp (in the set) and fn."""
    right = tp if tp_all is None else tp_all
    p = right / (right + fp) if right + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 6), "recall": round(r, 6), "f1": round(f1, 6), "tp": tp, "fp": fp, "fn": fn}


def evaluate(home: Path) -> dict:
    truth = _truth(home)
    con = store.connect(home, read_only=True)
    try:
        master = frame(
            con,
            "SELECT m.ssn, m.dob, l.file_name, m.line_no FROM ssa_master m JOIN file_ledger l USING (file_id)",
        )
        persons = frame(
            con,
            """SELECT DISTINCT p.state || '|' || p.member_id AS left_id, p.verified_ssn, i.dob, l.file_name, i.line_no
            FROM fcr_persons p JOIN fcr_person_input i USING (state, case_id, member_id)
            JOIN file_ledger l ON l.file_id = i.file_id WHERE p.status = 'active' AND i.action_type = 'A'""",
        )
        records = frame(
            con,
            """SELECT n.ndnh_id::VARCHAR AS right_id, n.ssn, n.verified_ssn, l.file_name, n.line_no FROM ndnh n
            JOIN file_ledger l USING (file_id)""",
        )
    finally:
        con.close()
    master = master.join(truth, on=["file_name", "line_no"]).filter(pl.col("person_id").is_not_null())
    persons = persons.join(truth, on=["file_name", "line_no"], how="left")
    records = records.join(truth, on=["file_name", "line_no"], how="left")
    usable = master.filter(pl.col("dob").is_not_null()).select(
        "person_id", pl.col("ssn").alias("true_ssn"), pl.col("dob").alias("true_dob")
    )
    true_ssn = master.select("person_id", pl.col("ssn").alias("true_ssn"))

    # FCR identification
    chosen = persons.filter(pl.col("verified_ssn").is_not_null())
    right = chosen.join(true_ssn, left_on=["person_id", "verified_ssn"], right_on=["person_id", "true_ssn"], how="semi")
    any_dob = persons.filter(pl.col("dob").is_not_null()).join(usable, on="person_id").unique("left_id")
    clerk = any_dob.filter(_dob_usable("dob", "true_dob"))
    has_master = persons.join(true_ssn, on="person_id", how="semi")
    fp = chosen.height - right.height
    identification = {}
    for name, group in (("clerk", clerk), ("clerk_any_dob", any_dob)):
        tp = group.join(right.select("left_id"), on="left_id", how="semi").height
        identification[name] = {**_prf(tp, fp, group.height - tp, right.height), "set": group.height}
    identification |= {
        "all": {**_prf(right.height, fp, has_master.height - right.height), "set": has_master.height},
        "persons": persons.height,
        "chosen": chosen.height,
    }

    # NDNH locate
    predicted = (
        persons.filter(pl.col("verified_ssn").is_not_null())
        .join(records.filter(pl.col("verified_ssn").is_not_null()), on="verified_ssn")
        .select("left_id", "right_id")
    )
    pairs = persons.filter(pl.col("person_id").is_not_null()).join(
        records.filter(pl.col("person_id").is_not_null()), on="person_id", suffix="_r"
    )
    all_true = pairs.select("left_id", "right_id")
    right_pairs = predicted.join(all_true, on=["left_id", "right_id"], how="semi").height
    fp = predicted.height - right_pairs
    locate = {}
    for name, group in (("clerk", clerk), ("clerk_any_dob", any_dob)):
        in_set = (
            pairs.join(group.select("left_id"), on="left_id", how="semi")
            .join(usable, on="person_id")
            .filter(_one_edit("ssn", "true_ssn"))
            .select("left_id", "right_id")
            .unique()
        )
        tp = predicted.join(in_set, on=["left_id", "right_id"], how="semi").height
        locate[name] = {**_prf(tp, fp, in_set.height - tp, right_pairs), "set": in_set.height}
    locate |= {
        "all": {**_prf(right_pairs, fp, all_true.height - right_pairs), "set": all_true.height},
        "predicted": predicted.height,
    }
    return {"home": str(home), "fcr_identification": identification, "ndnh_locate": locate}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, required=True)
    args = ap.parse_args()
    print(json.dumps(evaluate(args.home), indent=2))


if __name__ == "__main__":
    main()
