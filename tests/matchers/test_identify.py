"""Identification without an SSN (matchers.verify search, matchers.identify candidates, matchers.evidence tiers):
surname typos, one name blank, a DOB one digit off or with day and month swapped; two plausible persons → R."""

from pathlib import Path

import polars as pl
import pytest

from matchers.verify import verify_ssns

CASES = Path(__file__).resolve().parents[1] / "cases" / "matchers" / "identify"
PERSONS = pl.read_csv(CASES / "persons.csv", infer_schema=False)


@pytest.fixture(scope="module")
def rows():
    master = pl.read_csv(CASES / "master.csv", infer_schema=False).with_columns(
        pl.col("dob").str.to_date(), pl.col("date_of_death").str.to_date()
    )
    out, _ = verify_ssns(PERSONS.drop("expected_code", "expected_ssn", "note"), master)
    return {r["id"]: r for r in out.iter_rows(named=True)}


@pytest.mark.parametrize("pid,code,ssn,note", PERSONS.select("id", "expected_code", "expected_ssn", "note").rows())
def test_identification(rows, pid, code, ssn, note):
    assert (rows[pid]["ssn_validity"], rows[pid]["verified_ssn"]) == (code or "", ssn), note


def test_evidence_names_the_tier(rows):
    assert rows["p1"]["evidence"] == "stage=name_dob_search candidates=1 tier=name_dob"
    assert rows["p12"]["evidence"] == "stage=name_dob_search candidates=1 tier=tolerant"
    assert rows["p2"]["evidence"] == "stage=name_dob_search candidates=1 tier=one_name_blank"
    assert rows["p3"]["dob_indicator"] == "T"  # one digit off: within tolerance
    assert rows["p7"]["evidence"] == "stage=name_dob_search candidates=2 tier=tolerant"
