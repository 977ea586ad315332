"""Structural SSN rules: reason codes, ITIN ranges, variants."""

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matchers.persons import PERSON_COLUMNS
from matchers.ssn import KNOWN_INVALID, ssn_reason_expr, ssn_variants


def reasons(values, issued=None):
    frame = pl.DataFrame({"s": values, "d": issued or [None] * len(values)}, schema={"s": pl.Utf8, "d": pl.Date})
    return frame.select(ssn_reason_expr("s", "d" if issued else None).alias("r"))["r"].to_list()


@pytest.mark.parametrize(
    "value,code",
    [
        ("123-45-6789", "OK"),
        ("000123456", "AREA_000"),
        ("666123456", "AREA_666"),
        ("900123456", "AREA_9XX"),
        ("912503456", "ITIN"),
        ("912933456", "AREA_9XX"),
        ("123006789", "GROUP_00"),
        ("123450000", "SERIAL_0000"),
        ("078051120", "KNOWN_INVALID"),
        ("219099999", "KNOWN_INVALID"),
        ("987654325", "KNOWN_INVALID"),
        ("12345", "FORMAT"),
        ("12345678A", "FORMAT"),
        (None, "MISSING"),
        ("  ", "MISSING"),
        ("772123456", "OK"),
    ],
)
def test_reason_codes(value, code):
    assert reasons([value]) == [code]


def test_pre_2011_area_only_refused_with_issue_date():
    from datetime import date

    assert reasons(["772123456", "772123456"], [date(2010, 1, 1), date(2012, 1, 1)]) == ["UNISSUED_PRE_2011", "OK"]


@given(st.integers(1, 899).filter(lambda a: a != 666), st.integers(1, 99), st.integers(1, 9999))
def test_every_issuable_number_is_ok(area, group, serial):
    ssn = f"{area:03d}{group:02d}{serial:04d}"
    assert reasons([ssn]) == (["KNOWN_INVALID"] if ssn in KNOWN_INVALID else ["OK"])


@given(st.integers(900, 999), st.integers(0, 99), st.integers(0, 9999))
def test_nine_hundreds_are_never_ssns(area, group, serial):
    code = reasons([f"{area:03d}{group:02d}{serial:04d}"])[0]
    assert code in {"ITIN", "AREA_9XX", "KNOWN_INVALID"}
    in_itin = any(lo <= group <= hi for lo, hi in ((50, 65), (70, 88), (90, 92), (94, 99)))
    if code != "KNOWN_INVALID":
        assert (code == "ITIN") == in_itin


@given(st.text("0123456789", min_size=9, max_size=9))
def test_variants_are_one_edit_away(ssn):
    v = ssn_variants(pl.DataFrame({"k": [1], "s": [ssn]}), "k", "s")
    for variant, edit in v.select("variant", "edit").iter_rows():
        diff = [i for i in range(9) if variant[i] != ssn[i]]
        if edit == "one_digit":
            assert len(diff) == 1
        else:
            assert len(diff) == 2 and diff[1] == diff[0] + 1 and variant[diff[0]] == ssn[diff[1]]
    assert v.filter(pl.col("edit") == "one_digit").height == 81


@pytest.mark.parametrize(
    ("raw", "key"),
    [("09O614932", "090614932"), ("8O|184404", "801184404"), ("56OO9478Z", "560094782"), ("3608802n", None)],
)
def test_ocr_letters_in_an_ssn_are_read_as_digits(raw, key):
    from matchers.persons import prepare_persons

    frame = pl.DataFrame({c: [None] for c in PERSON_COLUMNS}, schema={c: pl.Utf8 for c in PERSON_COLUMNS})
    frame = frame.with_columns(pl.lit("1").alias("id"), pl.lit(raw).alias("ssn"))
    assert prepare_persons(frame)["ssn9"][0] == key
