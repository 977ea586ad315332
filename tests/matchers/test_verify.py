"""SSN verification codes against a small SSA master (tests/cases/matchers)."""

from pathlib import Path

import polars as pl
import pytest

from matchers.verify import verify_ssns
from pipeline.evaluation.metrics import verification_metrics

CASES = Path(__file__).resolve().parents[1] / "cases" / "matchers"


@pytest.fixture(scope="module")
def result():
    persons = pl.read_csv(CASES / "verify_persons.csv", infer_schema=False)
    master = pl.read_csv(CASES / "master.csv", infer_schema=False).with_columns(
        pl.col("dob").str.to_date(), pl.col("date_of_death").str.to_date()
    )
    mis = pl.read_csv(CASES / "misidentified.csv", infer_schema=False)
    persons = persons.with_columns(member_id=pl.col("id"))
    out, issues = verify_ssns(persons, master, mis)
    return {r["id"]: r for r in out.iter_rows(named=True)}, issues, out


@pytest.mark.parametrize(
    "pid,code,ssn",
    [
        ("v1", "V", "123456789"),  # nickname + DOB year +1
        ("c1", "C", "123456789"),  # one digit wrong
        ("c2", "C", "234567890"),  # adjacent transposition
        ("n1", "N", None),  # SSN exists, name only probable, DOB disagrees
        ("p1", "P", "345678901"),  # no SSN: name + DOB search, unique
        ("r1", "R", None),  # two master persons fit: never a guess
        ("x1", "", None),  # known-invalid number, nobody fits
        ("mis", "", None),  # misidentified participant: SSN forbidden
        ("dead", "V", "567890123"),
    ],
)
def test_codes(result, pid, code, ssn):
    rows, _, _ = result
    assert rows[pid]["ssn_validity"] == code
    assert rows[pid]["verified_ssn"] == ssn


def test_deceased_and_other_ssns(result):
    rows, _, _ = result
    assert rows["dead"]["deceased"] and str(rows["dead"]["date_of_death"]) == "2020-01-01"
    assert rows["c2"]["other_ssns"] == ["234567899"]
    assert rows["x1"]["ssn_structure"] == "KNOWN_INVALID"


def test_bad_row_reported_not_raised(result):
    rows, issues, _ = result
    assert rows["bad"]["ssn_validity"] == ""
    assert {"BAD_DOB", "NON_ASCII"} <= set(issues["issue"])


def test_verification_metrics(result):
    _, _, out = result
    truth = pl.DataFrame(
        {
            "id": ["v1", "c1", "c2", "p1", "r1"],
            "true_ssn": ["123456789", "123456789", "234567890", "345678901", "456789012"],
        }
    )
    m = verification_metrics(out.filter(pl.col("id").is_in(truth["id"].implode())), truth)
    assert (m["tp"], m["fp"], m["fn"]) == (4, 0, 1)
    assert m["by_code"]["R"]["fn"] == 1
