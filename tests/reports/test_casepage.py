"""The printable financial-situation page of one case: what it shows, masked SSN, family violence."""

from __future__ import annotations

import re

import pytest

from reports.casepage import CaseNotFound, build_case_page
from tests.reports.storekit import C2, SSNS, build_small_store


@pytest.fixture()
def store_home(tmp_path):
    con = build_small_store(tmp_path)
    yield tmp_path, con
    con.close()


def test_the_page_holds_the_cases_income_and_contacts(store_home):
    home, con = store_home
    page = build_case_page(con, home, C2, "KS", "KSC2")
    text = page.path.read_text()
    assert page.path == home / "reports" / C2 / "cases" / "KS_KSC2.html" and page.member_id == "KSM4"
    assert "DREW IRREGULAR" in text and "***-**-4444" in text and SSNS["ks_irregular"] not in text
    assert "KSC2" in text and "KSC4" in text  # both of his cases in the state, with the age of each debt
    assert ">397<" in text and "2025-01-01" in text  # KSC2: oldest unpaid installment, days in arrears
    assert "irregular" in text and "letter mailed" in text and "<svg" in text  # ability, ASAP history, wage chart
    assert not re.search(r"<script", text)  # prints as it shows: no script


def test_employers_are_withheld_when_another_state_flags_family_violence(store_home):
    home, con = store_home
    con.execute("UPDATE ndnh SET employer_name = 'ACME WIDGETS' WHERE verified_ssn = ?", [SSNS["ks_steady"]])
    own = build_case_page(con, home, C2, "MO", "MOC2").path.read_text()
    assert "ACME WIDGETS" in own and "employer withheld (family violence)" not in own
    con.execute("UPDATE fcr_persons SET family_violence = 'FV' WHERE member_id = 'KSM1'")  # ALAN, flagged by KS
    text = build_case_page(con, home, C2, "MO", "MOC2").path.read_text()  # ALAN's MO case
    assert "ACME WIDGETS" not in text and "employer withheld (family violence)" in text
    assert "<td>withheld (family violence)</td>" in text  # the QW employer column
    assert "5000.0" in text  # amounts are still shown
    ks = build_case_page(con, home, C2, "KS", "KSC1").path.read_text()  # the flagging state itself
    assert "ACME WIDGETS" in ks


def test_an_unknown_case_is_refused(store_home):
    home, con = store_home
    with pytest.raises(CaseNotFound):
        build_case_page(con, home, C2, "KS", "NOSUCHCASE")
