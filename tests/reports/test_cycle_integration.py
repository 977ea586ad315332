"""Reports over a real cycle: a small synthetic home (synth) run through `run_cycle`, then build_reports."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from pipeline import store


@pytest.fixture(scope="module")
def cycle_home(tmp_path_factory):
    from pipeline.cycle.run import run_cycle
    from synth.home import generate

    home = tmp_path_factory.mktemp("cycle_home")
    generate(300, ["KS", "MO"], 11, home, date(2026, 11, 2))
    import pipeline.cycle.run as cycle

    saved, cycle.POLL_SECONDS = cycle.POLL_SECONDS, 0.0  # a fresh home: every file is complete
    try:
        summary = run_cycle(home, date(2026, 11, 2))
    finally:
        cycle.POLL_SECONDS = saved
    assert summary is not None
    return home, summary.cycle_id


def test_reports_of_a_real_cycle_hold_no_full_ssn_and_only_own_state(cycle_home):
    from reports.build import build_reports

    home, cycle_id = cycle_home
    con = store.connect(home)
    try:
        result = build_reports(con, home, cycle_id)
        ssns = {
            r[0]
            for r in con.execute("""SELECT ssn FROM ssa_master UNION SELECT ssn FROM fcr_persons
                 UNION SELECT ssn FROM ndnh UNION SELECT ncp_ssn FROM case_financial""").fetchall()
            if r[0]
        }
        members = dict(con.execute("SELECT DISTINCT member_id, state FROM fcr_persons").fetchall())
        casefin_rows = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE state NOT IN ('KS', 'MO')) FROM case_financial"
        ).fetchone()
    finally:
        con.close()
    assert result.states == ["KS", "MO"]
    assert casefin_rows[0] > 0 and casefin_rows[1] == 0  # the cycle's load stage filled case_financial
    out = Path(result.directory)
    for f in out.iterdir():
        text = f.read_text()
        assert not set(re.findall(r"(?<!\d)\d{9}(?!\d)", text)) & ssns, f.name
        scope = f.name[:2]
        for member in re.findall(r"\b(?:KS|MO)M\d+\b", text):
            assert scope in ("KS", "MO") and members.get(member, scope) == scope, (f.name, member)
    assert (out / "KS_asap_letters.txt").exists() and (out / "MO_income_profiles.csv").exists()
