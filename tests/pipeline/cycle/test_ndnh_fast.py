"""The NDNH fast path in the store (pipeline.cycle.ndnhfast) decides nothing the kernel would not: the same
verification, verified SSN and rule for every record with and without it; its reference leaves out SSNs whose
decision could differ (a person with two SSNs, an SSN two master records hold, a blank or placeholder name)."""

from datetime import date

import polars as pl

from matchers.verify import prepare_master
from pipeline import store
from pipeline.cycle import ndnh
from pipeline.cycle.ndnhfast import FAST_TABLE, fast_reference
from pipeline.cycle.ssnverify import MasterRef
from tests.pipeline.cycle.builder import as_of_date, build_home
from tests.pipeline.cycle.conftest import run_home


def test_reference_leaves_out_what_could_decide_otherwise():
    master = pl.DataFrame(
        {
            "ssn": ["123456701", "123456702", "123456703", "123456703", "123456704", "123456705"],
            "first_name": ["ANA", "BEN", "CAL", "CAL", "UNKNOWN", "EVA"],
            "middle_name": [None] * 6,
            "last_name": ["LEE", "KIM", "ROE", "ROE", "DOE", "FOX"],
            "dob": [date(1980, 1, 1)] * 6,
            "sex": [None] * 6,
            "date_of_death": [None] * 6,
            "other_ssn_1": [None, "123456799", None, None, None, None],
        },
        schema_overrides={"date_of_death": pl.Date, "sex": pl.Utf8, "middle_name": pl.Utf8},
    )
    ref = fast_reference(prepare_master(master))
    # 702 has another SSN (alias), 703 is held twice, 704's first name is a placeholder
    assert sorted(ref["ssn_key"].to_list()) == ["123456701", "123456705"]
    assert set(ref.columns) >= {"ssn_key", "first_name", "last_name", "dob", "fn_key", "ln_key"}


def test_fast_path_changes_no_decision(tmp_path):
    home = build_home(tmp_path / "home", bad=False)
    assert run_home(home).returncode == 0
    con = store.connect(home)
    try:
        cycle = con.execute("SELECT max(cycle_id) FROM cycles").fetchone()[0]
        seen = []
        for fast in (True, False):
            con.execute("BEGIN")
            con.execute("UPDATE ndnh SET verification = NULL, verified_ssn = NULL WHERE cycle_id = ?", [cycle])
            master = MasterRef(con)
            if not fast:
                master._fast = master.fast_reference().clear()  # every record through the kernel
            ndnh._verify(con, cycle, master, as_of_date())
            seen.append(
                (
                    con.execute(
                        "SELECT ndnh_id, verification, verified_ssn FROM ndnh WHERE cycle_id = ? ORDER BY 1", [cycle]
                    ).fetchall(),
                    con.execute(f"SELECT count(*) FROM {FAST_TABLE}").fetchone()[0],
                    con.execute("SELECT key, rule FROM ndnh_vres").fetchall(),
                )
            )
            con.execute("ROLLBACK")
    finally:
        con.close()
    (with_fast, n_fast, rules_fast), (without, n_none, rules_none) = seen
    assert n_fast > 0 and n_none == 0
    assert with_fast == without
    assert any(v == "V" for _, v, _ in with_fast)
    assert sorted(rules_none) == sorted(rules_fast)
