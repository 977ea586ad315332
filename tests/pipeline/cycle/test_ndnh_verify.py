"""NDNH record verification rules (pipeline.cycle.ndnhverify): exact SSN with name tolerance, the states'
registered names as a second reference, SSN correction for W-4 / UI only, never a guess."""

from datetime import date

import polars as pl
import pytest

from matchers.verify import prepare_master
from pipeline.cycle import ndnhverify
from pipeline.cycle.ndnhverify import verify_ndnh_records

MASTER = pl.DataFrame(
    {
        "ssn": ["123456789", "234567891", "345678912", "456789123", "567891234", "567891236"],
        "first_name": ["WILLIAM", "MARY", "JOHN", "ANA", "PAT", "PAT"],
        "middle_name": [None] * 6,
        "last_name": ["SMITH", "JONES", "BROWN", "LEE", "MILLER", "MILLER"],
        "dob": [
            date(1980, 5, 17),
            date(1985, 2, 3),
            date(1975, 9, 30),
            date(1990, 7, 7),
            date(1970, 1, 20),
            date(1970, 1, 20),
        ],
        "sex": ["M", "F", "M", "F", "M", "M"],
        "date_of_death": [None] * 6,
    }
).with_columns(pl.col("date_of_death").cast(pl.Date))

REGISTERED = pl.DataFrame(
    {  # an FCR person verified to 234567891 whose state knows her birth surname
        "verified_ssn": ["234567891"],
        "first_name": ["MARY"],
        "last_name": ["JONES"],
        "dob": [date(1985, 2, 3)],
        "additional_first_name_1": [None],
        "additional_last_name_1": ["WILSON"],
        "additional_first_name_2": [None],
        "additional_last_name_2": [None],
    }
).cast({"additional_first_name_1": pl.Utf8, "additional_first_name_2": pl.Utf8, "additional_last_name_2": pl.Utf8})

RECORDS = [  # key, source, ssn, first, last, dob, expected verified SSN
    (1, "H98", "123456789", "BILL", "SMITH", None, "123456789"),  # nickname, QW without DOB
    (2, "H98", "234567891", "M", "WILSON", None, "234567891"),  # initial + birth surname via registered names
    (3, "H98", "123456798", "WILLIAM", "SMITH", None, None),  # QW: SSNs are never corrected
    (4, "H99", "123456798", "WILLIAM", "SMITH", date(1980, 5, 17), "123456789"),  # W-4: transposition corrected
    (5, "H99", "345678913", "JOHN", "BROWN", date(1975, 9, 30), "345678912"),  # W-4: one digit corrected
    (6, "H99", "345678913", "JOHN", "BROWN", None, "345678912"),  # no DOB: the full name picks one SSN an edit away
    (7, "H98", "456789123", "ANA", "LEW", None, "456789123"),  # one typo in a short surname
    (8, "H99", "123456789", "MARIA", "GARCIA", date(1991, 1, 1), None),  # someone else's SSN
    (9, "H99", "567891235", "PAT", "MILLER", date(1970, 1, 20), None),  # two correction candidates: no guess
    (
        10,
        "H99",
        "234567891",
        "MARY",
        "TAYLOR",
        date(1985, 2, 3),
        "234567891",
    ),  # surname change SSA and state miss: DOB + first
]


@pytest.fixture(scope="module")
def out():
    recs = pl.DataFrame(
        [r[:6] for r in RECORDS],
        schema={
            "key": pl.Int64,
            "source": pl.Utf8,
            "ssn": pl.Utf8,
            "first_name": pl.Utf8,
            "last_name": pl.Utf8,
            "dob": pl.Date,
        },
        orient="row",
    ).with_columns(pl.lit(None, pl.Utf8).alias("middle_name"))
    res = verify_ndnh_records(recs, prepare_master(MASTER), REGISTERED, chunk=4)
    return {r["key"]: r for r in res.iter_rows(named=True)}


@pytest.mark.parametrize("key,source,ssn,first,last,dob,expected", RECORDS)
def test_rules(out, key, source, ssn, first, last, dob, expected):
    row = out[key]
    assert row["verified_ssn"] == expected
    assert row["verification"] == ("V" if expected else "U")


def test_rule_evidence(out):
    assert out[2]["rule"] == "registered_name"
    assert out[4]["rule"] == "correction:transposition"
    assert out[5]["rule"] == "correction:one_digit"
    assert out[1]["rule"] == "exact_ssn"


def test_w4_identified_by_name_and_dob_when_the_ssn_fails():
    recs = pl.DataFrame(
        {
            "key": [1, 2],
            "source": ["H99", "H98"],
            "ssn": ["999999999", "999999999"],
            "first_name": ["JOHN", "JOHN"],
            "middle_name": [None, None],
            "last_name": ["BROWN", "BROWN"],
            "dob": [date(1975, 9, 30), None],
        }
    ).cast({"middle_name": pl.Utf8})
    res = verify_ndnh_records(recs, prepare_master(MASTER), None)
    rows = {r["key"]: r for r in res.iter_rows(named=True)}
    assert rows[1]["verified_ssn"] == "345678912" and rows[1]["rule"] == "name_dob_search"
    assert rows[2]["verification"] == "U"


def test_confirmed_name_from_a_w4_verified_with_its_dob():
    # SSA still has MARY JONES; her W-4 (DOB exact) and QW report M TAYLOR: the W-4 verifies by SSN + DOB + the
    # initial and confirms SSN + name for the QW, which has no DOB and only the initial (not enough on its own)
    recs = pl.DataFrame(
        {
            "key": [1, 2, 3, 4],
            "source": ["H99", "H98", "H98", "H98"],
            "ssn": ["234567891"] * 4,
            "first_name": ["M", "M", "M", "MARY"],
            "middle_name": [None] * 4,
            "last_name": ["TAYLOR", "TAYLOR", "CARTER", "CARTER"],
            "dob": [date(1985, 2, 3), None, None, None],
        }
    ).cast({"middle_name": pl.Utf8})
    res = verify_ndnh_records(recs, prepare_master(MASTER), None, chunk=1)
    rows = {r["key"]: r for r in res.iter_rows(named=True)}
    assert rows[1]["rule"] == "exact_ssn"
    assert rows[2]["rule"] == "confirmed_name" and rows[2]["verified_ssn"] == "234567891"
    assert rows[3]["verification"] == "U"
    assert rows[4]["rule"] == "exact_ssn"  # the SSN and the whole first name: a surname change SSA does not know


def test_record_under_the_persons_other_ssn_meets_the_registered_one():
    master = pl.concat(
        [
            MASTER.with_columns(pl.lit(None, pl.Utf8).alias("other_ssn_1")),
            pl.DataFrame(
                {
                    "ssn": ["678912345"],
                    "first_name": ["JOHN"],
                    "middle_name": [None],
                    "last_name": ["BROWN"],
                    "dob": [date(1975, 9, 30)],
                    "sex": ["M"],
                    "date_of_death": [None],
                    "other_ssn_1": ["345678912"],
                }
            ).cast(MASTER.schema | {"other_ssn_1": pl.Utf8}),
        ],
        how="vertical_relaxed",
    ).with_columns(
        pl.when(pl.col("ssn") == "345678912")
        .then(pl.lit("678912345"))
        .otherwise(pl.col("other_ssn_1"))
        .alias("other_ssn_1")
    )
    reg = REGISTERED.with_columns(
        pl.lit("345678912").alias("verified_ssn"),
        pl.lit("JOHN").alias("first_name"),
        pl.lit("BROWN").alias("last_name"),
        pl.lit(date(1975, 9, 30)).alias("dob"),
    )
    recs = pl.DataFrame(
        {
            "key": [1],
            "source": ["H98"],
            "ssn": ["678912345"],
            "first_name": ["JOHN"],
            "middle_name": [None],
            "last_name": ["BROWN"],
            "dob": [None],
        }
    ).cast({"middle_name": pl.Utf8, "dob": pl.Date})
    res = verify_ndnh_records(recs, prepare_master(master), reg)
    assert res.row(0, named=True)["verified_ssn"] == "345678912"


def _qw(rows, fein=True):
    """rows: key, source, ssn, first, last, employer_fein (QW: no DOB)."""
    return pl.DataFrame(
        [(*r, None, None) for r in rows],
        orient="row",
        schema={
            "key": pl.Int64,
            "source": pl.Utf8,
            "ssn": pl.Utf8,
            "first_name": pl.Utf8,
            "last_name": pl.Utf8,
            "employer_fein": pl.Utf8,
            "middle_name": pl.Utf8,
            "dob": pl.Date,
        },
    )


def _rows(recs, history=None):
    res = verify_ndnh_records(recs, prepare_master(MASTER), None, chunk=3, history=history)
    return {r["key"]: r for r in res.iter_rows(named=True)}


def test_employer_correction_of_a_qw_ssn_from_the_same_employers_verified_record(monkeypatch):
    monkeypatch.setattr(ndnhverify, "VARIANT_CHUNK", 2)  # the variants are joined in slices
    rows = _rows(
        _qw(
            [
                (1, "H98", "123456789", "WILLIAM", "SMITH", "E1"),  # verified (exact SSN): the employer's reference
                (2, "H98", "123456798", "WILLIAM", "SMITH", "E1"),  # transposed: corrected from the reference
                (3, "H98", "123456780", "BILL", "SMITH", "E1"),  # one digit wrong, nickname agrees: corrected
                (4, "H98", "123456798", "WILLIAM", "SMITH", "E2"),  # another employer: no reference, not corrected
                (5, "H98", "123456798", "GEORGE", "CLARK", "E1"),  # name disagrees: not corrected
                (6, "H99", "123456798", "WILLIAM", "SMITH", "E1"),  # W-4 without DOB: corrected the same way
            ]
        )
    )
    assert rows[1]["rule"] == "exact_ssn"
    assert (rows[2]["verified_ssn"], rows[2]["rule"]) == ("123456789", "employer_correction:transposition")
    assert (rows[3]["verified_ssn"], rows[3]["rule"]) == ("123456789", "employer_correction:one_digit")
    assert rows[6]["verified_ssn"] == "123456789"
    for k in (4, 5):
        assert rows[k]["verification"] == "U" and rows[k]["verified_ssn"] is None


def test_employer_correction_never_guesses_between_two_references():
    # two PAT MILLERs of the same employer, verified to 567891234 and 567891236: 567891235 is one digit from both
    rows = _rows(
        _qw(
            [
                (1, "H98", "567891234", "PAT", "MILLER", "E1"),
                (2, "H98", "567891236", "PAT", "MILLER", "E1"),
                (3, "H98", "567891235", "PAT", "MILLER", "E1"),
            ]
        )
    )
    assert rows[1]["verification"] == rows[2]["verification"] == "V"
    assert rows[3]["verification"] == "U" and rows[3]["rule"] is None


def test_employer_name_same_ssn_and_first_name_after_a_surname_change():
    # SSA has MARY JONES; the employer's W-4 (DOB exact) verifies under M TAYLOR by SSN + DOB + initial; her QW under
    # the birth surname WILSON (unknown to SSA and to any state) carries the same SSN and initial at that employer
    recs = pl.concat(
        [
            _qw([(1, "H99", "234567891", "M", "TAYLOR", "E1")]).with_columns(pl.lit(date(1985, 2, 3)).alias("dob")),
            _qw(
                [
                    (2, "H98", "234567891", "M", "WILSON", "E1"),  # same SSN + first name, same employer: verified
                    (3, "H98", "234567891", "M", "WILSON", "E2"),  # employer E2: record 5 is its reference
                    (4, "H98", "234567891", "ALICE", "WILSON", "E1"),  # first name and surname disagree: unverified
                    (5, "H98", "234567891", "MARY", "WILSON", "E2"),  # SSN + whole first name: verified by SSA's record
                ]
            ),
        ]
    )
    rows = _rows(recs)
    assert rows[1]["rule"] == "exact_ssn"
    assert (rows[2]["verified_ssn"], rows[2]["rule"]) == ("234567891", "employer_name")
    assert rows[3]["rule"] == "employer_name"  # initial + surname of record 5, verified at the same employer
    assert rows[4]["verification"] == "U"
    assert rows[5]["rule"] == "exact_ssn"
