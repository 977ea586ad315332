"""Name normalisation, nicknames, phonetic keys once per distinct value."""

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matchers import names
from matchers.names import nickname_equivalent, normal_name_expr, normalise_names


def norm(values):
    return pl.DataFrame({"n": values}, schema={"n": pl.Utf8}).select(normal_name_expr("n").alias("n"))["n"].to_list()


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("O'Brien Jr.", "OBRIEN"),
        ("Smith-Jones", "SMITH JONES"),
        ("  josé  ", "JOSE"),
        ("Ñúñez III", "NUNEZ"),
        ("JR", "JR"),
        ("de la Cruz", "DE LA CRUZ"),
        ("", None),
        (None, None),
        ("Zoë, Sr", "ZOE"),
        ("St. John", "ST JOHN"),
    ],
)
def test_normal_form(raw, expected):
    assert norm([raw]) == [expected]


@given(st.text(max_size=30))
def test_normal_form_is_idempotent_ascii_upper(text):
    once = norm([text])[0]
    if once is not None:
        assert all(c == " " or "A" <= c <= "Z" for c in once)
        assert norm([once]) == [once]


def test_hyphenated_surname_keeps_full_and_parts():
    out = normalise_names(
        pl.DataFrame(
            {"first_name": ["Mary"], "middle_name": [None], "last_name": ["Garcia-Lopez"]},
            schema={"first_name": pl.Utf8, "middle_name": pl.Utf8, "last_name": pl.Utf8},
        )
    )
    assert out["ln_key"][0] == "GARCIALOPEZ"
    assert out["ln_parts"][0].to_list() == ["GARCIA", "LOPEZ"]


def test_nicknames_equivalent():
    pairs = pl.DataFrame(
        {"a": ["BILL", "BOB", "PEGGY", "JOHN", "MARY"], "b": ["WILLIAM", "ROBERT", "MARGARET", "WILLIAM", "ZELDA"]}
    )
    assert nickname_equivalent(pairs, "a", "b").to_list() == [True, True, True, False, False]


def test_phonetics_computed_once_per_distinct_name(monkeypatch):
    calls = []
    real = names.PHONETICS["nysiis"]
    monkeypatch.setitem(names.PHONETICS, "nysiis", lambda v: calls.append(v) or real(v))
    frame = pl.DataFrame(
        {"first_name": ["ANN"] * 500 + ["BOB"] * 500, "middle_name": [None] * 1000, "last_name": ["SMITH"] * 1000},
        schema_overrides={"middle_name": pl.Utf8},
    )
    out = normalise_names(frame)
    assert sorted(calls) == ["ANN", "BOB", "SMITH"]
    assert out["ln_nysiis"].n_unique() == 1


def test_placeholder_names_are_blank_but_real_names_that_look_alike_are_not():
    from matchers.names import normalise_names

    frame = pl.DataFrame(
        {
            "first_name": ["Baby Boy", "Unknown", "Perry", "Gent", "A"],
            "middle_name": [None] * 5,
            "last_name": ["Roldan", "Smith", "Minor", "Goh", "Of The House"],
        }
    )
    out = normalise_names(frame)
    assert out["fn_key"].to_list() == [None, None, "PERRY", None, "A"]  # an initial is evidence
    assert out["ln_key"].to_list() == ["ROLDAN", "SMITH", "MINOR", "GOH", None]  # MINOR, GOH: real surnames
