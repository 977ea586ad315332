"""The verification kernel (matchers.kernel): frame in, frame out, and the same acceptance as
`matchers.evidence.exact_ok` over `agreement` — its fast path for equal name keys changes no decision."""

from datetime import date

import polars as pl
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from matchers.evidence import agreement, exact_ok
from matchers.kernel import DECISION, candidate_pairs, decide_pairs, record_keys
from matchers.verify import prepare_master

FIRST = ["JOHN", "JON", "BILL", "WILLIAM", "MARY", "MARK", "J", "UNKNOWN", "", None, "ANA", "ANNA"]
LAST = ["SMITH", "SMYTH", "SMITH-JONES", "JONES", "LEE", "", None, "BROWN", "KINGSLEY", "KINGSEY"]
MIDDLE = ["A", "B", None]
DOBS = [None, date(1980, 5, 17), date(1981, 5, 17), date(1980, 5, 18), date(1980, 5, 27), date(1990, 1, 1)]

person = st.tuples(st.sampled_from(FIRST), st.sampled_from(MIDDLE), st.sampled_from(LAST), st.sampled_from(DOBS))


def _master(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ssn": [f"1234567{i:02d}" for i in range(len(rows))],
            "first_name": [r[0] for r in rows],
            "middle_name": [r[1] for r in rows],
            "last_name": [r[2] for r in rows],
            "dob": [r[3] for r in rows],
            "sex": [None] * len(rows),
            "date_of_death": [None] * len(rows),
        },
        schema_overrides={"dob": pl.Date, "date_of_death": pl.Date, "sex": pl.Utf8},
    )


def _records(rows: list[tuple], n_master: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "key": list(range(len(rows))),
            "ssn": [f"1234567{i % n_master:02d}" for i in range(len(rows))],
            "first_name": [r[0] for r in rows],
            "middle_name": [r[1] for r in rows],
            "last_name": [r[2] for r in rows],
            "dob": [r[3] for r in rows],
        },
        schema_overrides={"dob": pl.Date},
    )


@hsettings(max_examples=60, deadline=None)
@given(st.lists(person, min_size=1, max_size=6), st.lists(person, min_size=1, max_size=12))
def test_kernel_accepts_what_exact_ok_accepts(master_rows, record_rows):
    M, keys = prepare_master(_master(master_rows))
    pairs = candidate_pairs(record_keys(_records(record_rows, len(master_rows))), M, keys)
    out = decide_pairs(pairs)
    assert dict(out.schema) == DECISION
    ref = agreement(pairs).with_columns(_ok=exact_ok())
    ref = ref.group_by("key").agg(
        pl.col("_ok").any().alias("accepted"), (pl.col("_ok") & (pl.col("dob_level") == "E")).any().alias("confirmed")
    )
    got = out.select("key", "accepted", "confirmed").sort("key")
    assert got.equals(ref.sort("key").cast({"key": pl.Int64}))


def test_kernel_decides_per_record_with_evidence():
    M, keys = prepare_master(
        _master([("WILLIAM", None, "SMITH", date(1980, 5, 17)), ("MARY", None, "SMITH", date(1982, 1, 2))])
    )
    recs = _records(
        [
            ("BILL", None, "SMITH", None),  # nickname, no DOB: verified
            ("MARY", None, "SMITH", date(1982, 1, 2)),  # exact: verified and confirmed
            ("JOHN", None, "SMITH", None),  # WILLIAM's SSN: a clearly different first name never verifies
        ],
        2,
    )
    out = {r["key"]: r for r in decide_pairs(candidate_pairs(record_keys(recs), M, keys)).iter_rows(named=True)}
    assert out[0]["accepted"] and out[0]["first_rel"] == "agree" and out[0]["dob_level"] == "U"
    assert out[1]["accepted"] and out[1]["confirmed"] and out[1]["candidates"] == 1
    assert not out[2]["accepted"] and out[2]["first_rel"] == "differ"


def test_kernel_empty_frame():
    M, keys = prepare_master(_master([("ANA", None, "LEE", None)]))
    empty = _records([], 1)
    assert decide_pairs(candidate_pairs(record_keys(empty), M, keys)).is_empty()
