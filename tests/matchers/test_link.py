"""link(): accuracy on generated data, DESIGN §6 output contract and decision invariants."""

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from matchers.em import Parameters
from matchers.link import OUTPUT_COLUMNS, link
from matchers.scoring import decide
from matchers.settings import load_settings
from pipeline.evaluation.metrics import pair_metrics
from tests.matchers.persongen import make_pair

CASES = Path(__file__).resolve().parents[1] / "cases" / "matchers"


@pytest.fixture(scope="module")
def with_ssn():
    left, right, truth = make_pair(3000, 3000, overlap=0.5, seed=5, ssn_share=1.0)
    pairs, result = link(left, right)
    return left, right, truth, pairs, result


@pytest.fixture(scope="module")
def without_ssn():
    left, right, truth = make_pair(3000, 3000, overlap=0.5, seed=6, ssn_share=0.0)
    pairs, result = link(left, right)
    return truth, pairs, result


def test_accuracy_with_ssn(with_ssn):
    *_, truth, pairs, _ = with_ssn
    m = pair_metrics(pairs, truth)
    assert m["f1"] >= 0.995, m


def test_accuracy_without_ssn(without_ssn):
    truth, pairs, _ = without_ssn
    m = pair_metrics(pairs, truth)
    assert m["precision"] >= 0.995 and m["f1"] >= 0.98, m


def test_output_contract(with_ssn):
    *_, pairs, result = with_ssn
    assert tuple(pairs.columns) == OUTPUT_COLUMNS
    assert set(pairs["decision"].unique()) <= {"match", "review"}
    assert pairs["match_probability"].min() >= load_settings()["thresholds"]["review"]
    assert pairs.select(pl.struct("left_id", "right_id").is_unique().all()).item()
    for name in ("first_name", "last_name", "dob", "ssn", "address", "prior("):
        assert pairs["explanation"].str.contains(name, literal=True).all()
    assert set(result.rule_counts) == {r["name"] for r in load_settings()["blocking_rules"]}
    assert result.rule_counts["ssn_exact"] > 0


def test_right_row_gets_at_most_one_match(with_ssn):
    *_, pairs, _ = with_ssn
    assert pairs.filter(pl.col("decision") == "match")["right_id"].is_duplicated().sum() == 0


def test_params_roundtrip_gives_same_pairs(with_ssn, tmp_path):
    left, right, _, pairs, result = with_ssn
    path = tmp_path / "params.json"
    result.parameters.save(path)
    again, res2 = link(left, right, params=Parameters.load(path))
    assert again.equals(pairs)
    assert "train" not in res2.timings


@hsettings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 4), st.floats(-5, 30)),
        min_size=1,
        max_size=30,
        unique_by=lambda t: (t[0], t[1]),
    ),
    st.booleans(),
)
def test_decision_invariants(rows, one_to_one):
    frame = pl.DataFrame(rows, schema={"l": pl.UInt32, "r": pl.UInt32, "match_weight": pl.Float64}, orient="row")
    frame = frame.with_columns(match_probability=1 / (1 + (2 ** -pl.col("match_weight"))))
    out = decide(frame, 0.9, 0.5, one_to_one)
    assert (out["match_probability"] >= 0.5).all()
    matches = out.filter(pl.col("decision") == "match")
    assert (matches["match_probability"] >= 0.9).all()
    assert not matches["r"].is_duplicated().any()
    if one_to_one:
        assert not matches["l"].is_duplicated().any()
    # a right row's match is its strictly best candidate
    for r, w in matches.select("r", "match_weight").iter_rows():
        others = frame.filter((pl.col("r") == r) & (pl.col("match_weight") >= w))
        assert others.height == 1 or one_to_one


def test_bad_rows_never_raise():
    bad = pl.DataFrame(
        {
            "id": ["a", "a", "", "b", "c"],
            "ssn": ["12", None, None, None, "000000000"],
            "first_name": ["Zoë", "x", "y", None, "Ann"],
            "middle_name": [None] * 5,
            "last_name": ["Ünger", "x", "y", None, "Lee"],
            "dob": ["2000-02-30", "x", None, None, "19850708"],
            "sex": [None] * 5,
            "street": [None] * 5,
            "city": [None] * 5,
            "state": [None] * 5,
            "zip": [None] * 5,
        },
        schema_overrides={c: pl.Utf8 for c in ("middle_name", "sex", "street", "city", "state", "zip")},
    )
    pairs, result = link(bad, bad)
    issues = dict(result.issues.group_by("issue").len().iter_rows())
    assert issues["DUPLICATE_ID"] == 2 and issues["NO_ID"] == 2 and issues["ALL_BLANK"] == 2
    assert result.n_left == 2  # a and c kept
    assert tuple(pairs.columns) == OUTPUT_COLUMNS


# --- realistic failure kinds (tests/cases/matchers/household/): what real new-hire and census files do


@pytest.fixture(scope="module")
def household():
    case = CASES / "household"
    pairs, result = link(
        pl.read_csv(case / "master.csv", infer_schema=False), pl.read_csv(case / "records.csv", infer_schema=False)
    )
    return pairs, pl.read_csv(case / "truth.csv", infer_schema=False)


def _decision(pairs: pl.DataFrame, left: str, right: str) -> str | None:
    row = pairs.filter((pl.col("left_id") == left) & (pl.col("right_id") == right))
    return row["decision"][0] if row.height else None


def test_a_parents_ssn_on_a_childs_w2_is_not_a_match(household):
    pairs, _ = household
    assert _decision(pairs, "ssa-1", "w2-household") is None  # same SSN and surname, first name differs
    assert _decision(pairs, "ssa-1", "w2-own") == "match"
    assert _decision(pairs, "ssa-2", "w2-household") == "match"  # the child's own record, by name and surname


def test_names_only_candidates_find_records_without_ssn_or_dob(household):
    pairs, _ = household
    assert _decision(pairs, "ssa-3", "w2-no-ssn") in ("match", "review")  # no SSN, no DOB: names alone
    assert _decision(pairs, "ssa-4", "w2-ocr") == "match"  # `41234567I`: an OCR letter read as the digit


def test_day_month_swapped_date_is_read_and_placeholders_are_blank(household):
    pairs, _ = household
    assert _decision(pairs, "ssa-3", "census-dm-swap") == "match"  # 1980-26-11
    placeholder = pairs.filter(pl.col("right_id") == "census-placeholder")
    assert placeholder.height == 0 or placeholder["explanation"].str.contains("first_name=missing").all()


def test_no_false_match_in_the_household_case(household):
    pairs, truth = household
    matches = pairs.filter(pl.col("decision") == "match").select("left_id", "right_id")
    assert matches.join(truth, on=["left_id", "right_id"], how="anti").is_empty(), matches


def test_a_block_larger_than_its_limit_is_left_out_and_the_rest_kept():
    from matchers.blocking import BlockingRule, generate

    left = pl.DataFrame({"fn_key": ["JOHN"] * 30 + ["ZELDA"], "ln_key": ["SMITH"] * 30 + ["OKAFOR"]})
    right = pl.DataFrame({"fn_key": ["JOHN"] * 30 + ["ZELDA"], "ln_key": ["SMITH"] * 30 + ["OKAFOR"]})
    rule = BlockingRule("first_last", keys=("fn_key", "ln_key"), max_block_pairs=400)
    pairs = generate(left, right, [rule]).pairs
    assert pairs.height == 1 and pairs.row(0)[:2] == (30, 30)  # JOHN SMITH (900 pairs) left out
