"""The named queries: they parse, run, and give the numbers the small store was built to produce."""

from __future__ import annotations

import polars as pl

from reports import metrics
from tests.reports.storekit import C2


def _row(df: pl.DataFrame, **where) -> dict:
    for k, v in where.items():
        df = df.filter(pl.col(k) == v)
    assert df.height == 1, (where, df)
    return df.row(0, named=True)


def test_every_query_has_name_title_and_state(small):
    _, con, _ = small
    cols = metrics.store_columns(con)
    for name in metrics.names():
        q = metrics.query(name)
        assert q.title and q.sql and "{{" not in q.sql, name
        if not metrics.missing(name, cols):
            assert "state" in metrics.run(con, name, C2).columns, name


def test_enforcement_sections_not_available_until_their_tables_land(small):
    _, con, result = small
    cols = metrics.store_columns(con)
    for name in ("offset_certifications", "passport_denials", "msfidm_matches", "insurance_matches"):
        assert (name in result.not_available) == bool(metrics.missing(name, cols))


def test_locate_and_registration_numbers(small):
    _, con, _ = small
    hit = metrics.run(con, "locate_hit_rate", C2)
    assert _row(hit, state="KS") == {"state": "KS", "requests": 2, "hits": 1, "hit_rate_pct": 50.0}
    reg = metrics.run(con, "fcr_registrations", C2)
    assert _row(reg, state="KS")["noncustodial_parents"] == 4
    assert _row(reg, state="US")["persons"] == 9


def test_reject_rates_attribute_swa_to_its_state(small):
    _, con, _ = small
    rates = metrics.run(con, "reject_rates", C2)
    ks = _row(rates, state="KS")
    assert (ks["records"], ks["rejected"]) == (10 + 100 + 4, 1 + 2)
    assert _row(rates, state="US")["records"] == 10 + 100 + 5 + 4 + 4 + 2


def test_asap_delinquent_letters_and_alerts(small):
    _, con, _ = small
    summary = metrics.run(con, "asap_summary", C2)
    ks = _row(summary, state="KS")
    # KSC4 owes $200 on a $300 order: only February's installment is unpaid (1 day), so it is not delinquent;
    # KSC2 and KSC3 owe more than 2 months (first in, first out); DREW (KSM4) is delinquent through KSC2.
    assert (ks["delinquent_cases"], ks["letters"], ks["passport_risk_ncps"], ks["payment_stop_alerts"]) == (2, 2, 1, 1)
    assert _row(summary, state="US")["letters"] == 3
    letters = metrics.run(con, "asap_letters", C2)
    drew = _row(letters, member_id="KSM4")
    assert drew["case_ids"] == "KSC2, KSC4" and drew["arrears"] == 4200.0 and drew["passport_risk"]
    assert drew["mailing"] == "mailed" and drew["address_source"] == "W-4 new hire (NDNH)"
    assert _row(letters, member_id="KSM5")["mailing"] == "no address, locate requested"
    assert _row(letters, member_id="MOM3")["reason"] == "address withheld (family violence)"
    alerts = metrics.run(con, "payment_alerts", C2)
    assert alerts.get_column("member_id").to_list() == ["KSM1"]
    assert alerts.get_column("alert").to_list() == ["stopped since previous snapshot"]


def test_income_profiles_and_segmentation(small):
    _, con, _ = small
    prof = metrics.run(con, "income_profiles", C2)
    classes = dict(zip(prof.get_column("member_id"), prof.get_column("ability_class")))
    assert classes == {
        "KSM1": "steady",
        "KSM4": "irregular",
        "KSM5": "none_found",
        "MOM1": "none_found",
        "MOM3": "steady",
    }
    alan = _row(prof, member_id="KSM1")
    assert (alan["quarters_with_earnings"], alan["avg_quarter_wage"], alan["employers_last_year"]) == (3, 5000.0, 1)
    assert (alan["q1_wages"], alan["q2_wages"], alan["q3_wages"], alan["q4_wages"]) == (5000, 5000, 5000, 0)
    # documented income: $15,000 of wages in the 4-quarter window / 12 = $1,250 a month; the $300 order is 24 %
    assert (alan["documented_monthly_income"], alan["order_share_pct"], alan["review_order"]) == (1250.0, 24.0, False)
    drew = _row(prof, member_id="KSM4")  # $1,000 of wages in a year against $600 a month of orders
    assert drew["review_order"] and drew["sources"] == "QW, W-4" and drew["last_seen"].isoformat() == "2026-01-12"
    # behaviour: KS sent no payments file; MO did: FRED paid $300 of $1,800 due (one month of six)
    assert _row(prof, member_id="KSM4")["behaviour"] == "no_payment_data"
    assert _row(prof, member_id="MOM1")["behaviour"] == "irregular"
    assert _row(prof, member_id="MOM3")["behaviour"] == "not_paying"
    seg = metrics.run(con, "segmentation", C2)
    assert _row(seg, state="KS", behaviour="no_payment_data", ability_class="steady")["share_pct"] == 33.3
    assert _row(seg, state="US", behaviour="irregular", ability_class="none_found")["ncps"] == 1
    summary = metrics.run(con, "segment_summary", C2)
    assert _row(summary, state="US")["hands_on_pct"] == 60.0 and _row(summary, state="US")["orders_to_review"] == 3


def test_ssn_columns_are_masked_by_the_metrics_layer(small):
    _, con, _ = small
    raw = metrics.run_raw(con, "asap_letters", C2)
    masked = metrics.run(con, "asap_letters", C2)
    assert "111224444" in raw.get_column("ncp_ssn").to_list()
    assert set(masked.get_column("ncp_ssn").to_list()) <= {"***-**-4444", "***-**-3333", ""}
