"""Household SSN sharing (DESIGN §8, issue 15): a relative's SSN with the same surname and another first name is
never verified, in NDNH verification (rules 1, 2, 5, 6) or in SSN verification; the holder's own records still are,
with a typo, an initial, a blank or changed surname, or one SSN digit wrong (cases: tests/cases/matchers/
verify_household)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from matchers.verify import prepare_master, verify_ssns
from pipeline.cycle.ndnhverify import verify_ndnh_records

CASES = Path(__file__).resolve().parents[2] / "cases" / "matchers" / "verify_household"


def _master() -> pl.DataFrame:
    return pl.read_csv(CASES / "master.csv", infer_schema=False).with_columns(
        pl.col("dob").str.to_date(), pl.col("date_of_death").str.to_date()
    )


def _records() -> pl.DataFrame:
    return pl.read_csv(CASES / "records.csv", infer_schema=False).with_columns(
        pl.col("key").cast(pl.Int64), pl.col("dob").str.to_date()
    )


RECORDS = _records()


@pytest.fixture(scope="module")
def ndnh():
    res = verify_ndnh_records(RECORDS.drop("expected_ssn", "note"), prepare_master(_master()), None)
    return {r["key"]: r for r in res.iter_rows(named=True)}


@pytest.mark.parametrize("key,expected,note", RECORDS.select("key", "expected_ssn", "note").rows())
def test_ndnh_verification(ndnh, key, expected, note):
    assert (ndnh[key]["verified_ssn"], ndnh[key]["verification"]) == (expected, "V" if expected else "U"), note


def test_registered_and_employer_references_do_not_launder_a_relatives_ssn():
    # the father is a registered FCR person (rule 2) and his W-4 is verified at employer E1 (rule 6); the
    # daughter's W-4 at E1 carries his SSN: neither reference verifies it
    registered = pl.DataFrame(
        {
            "verified_ssn": ["111223333"],
            "first_name": ["JOHN"],
            "last_name": ["SMITH"],
            "dob": [None],
            "additional_first_name_1": [None],
            "additional_last_name_1": ["SMYTHE"],
            "additional_first_name_2": [None],
            "additional_last_name_2": [None],
        },
        schema_overrides={"dob": pl.Date},
    ).cast({c: pl.Utf8 for c in ("additional_first_name_1", "additional_first_name_2", "additional_last_name_2")})
    recs = RECORDS.filter(pl.col("key").is_in([1, 6])).drop("expected_ssn", "note")
    recs = recs.with_columns(pl.lit("123456789").alias("employer_fein"))
    res = verify_ndnh_records(recs, prepare_master(_master()), registered)
    rows = {r["key"]: r for r in res.iter_rows(named=True)}
    assert rows[6]["verification"] == "V" and rows[1]["verification"] == "U"


def test_ssn_verification_codes():
    persons = RECORDS.select(
        pl.col("key").cast(pl.Utf8).alias("id"),
        "ssn",
        "first_name",
        "middle_name",
        "last_name",
        pl.col("dob").cast(pl.Utf8),
        *[pl.lit(None, pl.Utf8).alias(c) for c in ("sex", "street", "city", "state", "zip")],
    )
    out, _ = verify_ssns(persons, _master())
    rows = {r["id"]: r for r in out.iter_rows(named=True)}
    assert (rows["1"]["ssn_validity"], rows["1"]["verified_ssn"]) == ("N", None)  # probable only: never V
    assert (rows["2"]["ssn_validity"], rows["2"]["verified_ssn"]) == ("N", None)  # the father's DOB does not help
    # her own DOB: the father's SSN is refused, and the name + DOB search finds her own number
    assert (rows["3"]["ssn_validity"], rows["3"]["verified_ssn"]) == ("P", "111223355")
    assert (rows["6"]["ssn_validity"], rows["6"]["verified_ssn"]) == ("V", "111223333")
    assert (rows["10"]["ssn_validity"], rows["10"]["verified_ssn"]) == ("V", "333445555")
    assert (rows["11"]["ssn_validity"], rows["11"]["verified_ssn"]) == ("C", "333445555")
    assert rows["3"]["evidence"].startswith("stage=name_dob_search candidates=1 tier=name_dob")
