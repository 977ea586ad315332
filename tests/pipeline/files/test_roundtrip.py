"""Hypothesis: what the writer renders, the reader and validator give back unchanged."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.files.decode import decode_file
from pipeline.files.layouts import load_layout
from pipeline.files.validate import validate_file
from pipeline.files.writer import fixed_bytes
from pipeline.safeguards.masking import mask_ssn, mask_ssn_expr, scrub_text

W4 = load_layout("ndnh_w4")
NAMES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ-", min_size=1, max_size=16).filter(lambda s: s.strip("-") == s)
PERSON = st.fixed_dictionaries(
    {
        "ssn": st.from_regex(r"\A[0-8][0-9]{8}\Z"),
        "first_name": NAMES,
        "last_name": NAMES,
        "dob": st.dates(dt.date(1930, 1, 1), dt.date(2010, 12, 31)),
        "hire_date": st.dates(dt.date(2020, 1, 1), dt.date(2026, 12, 31)),
        "address_line_1": st.from_regex(r"\A[1-9][0-9]{0,4} [A-Z]{3,10} ST\Z"),
        "city": st.from_regex(r"\A[A-Z]{2,20}\Z"),
        "state": st.sampled_from(["KS", "MO", "OK", "TX"]),
        "zip": st.from_regex(r"\A[0-9]{5}\Z"),
        "employer_fein": st.from_regex(r"\A[0-9]{9}\Z"),
        "employer_name": st.from_regex(r"\A[A-Z0-9&]{1,20}( INC)?\Z"),
    }
)


@settings(max_examples=40, deadline=None)
@given(st.lists(PERSON, min_size=1, max_size=30))
def test_w4_round_trip(people):
    frame = pl.DataFrame(people)
    header = pl.DataFrame(
        {"transmitter_state_fips": ["20"], "date_stamp": [dt.date(2026, 11, 1)], "batch_number": ["7"]}
    )
    data = fixed_bytes(W4, [("H4", header), ("W4", frame), ("T4", pl.DataFrame({"record_count": [len(people)]}))])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w4.dat"
        path.write_bytes(data)
        result = validate_file(path)
        assert (result.file_status, result.rejected) == ("accepted", 0), result.to_json()["errors"]
        decoded = decode_file(path)
    assert decoded.select(frame.columns).to_dicts() == frame.to_dicts()


@given(st.text(alphabet="0123456789-", min_size=0, max_size=20))
def test_mask_shows_at_most_four_characters(value):
    masked = mask_ssn(value)
    assert len(re.sub(r"[*\-]", "", masked.removeprefix("***-**-"))) <= 4
    series = pl.DataFrame({"s": [value]}).select(mask_ssn_expr("s")).item()
    assert series == masked  # one rule, one value or a column


@given(st.from_regex(r"\A[0-9]{9}\Z"), st.text(max_size=20))
def test_scrub_text_hides_embedded_ssns(ssn, noise):
    text = f"{noise} ssn {ssn} and {ssn[:3]}-{ssn[3:5]}-{ssn[5:]}."
    scrubbed = scrub_text(text)
    assert ssn not in scrubbed and f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}" not in scrubbed
