"""No full SSN anywhere in reports or letters; a state's report shows only that state's persons."""

from __future__ import annotations

import re
from pathlib import Path

from tests.reports.storekit import SSNS

PERSONS = {
    "KS": {"KSM1", "KSM2", "KSM3", "KSM4", "KSM5", "KSC1", "KSC2", "KSC3", "KSC4"},
    "MO": {"MOM1", "MOM2", "MOM3", "MOC1", "MOC2"},
}


ALL_IDS = re.compile(r"\b(" + "|".join(sorted(set().union(*PERSONS.values()))) + r")\b")


def _ids(text: str) -> set[str]:
    return set(ALL_IDS.findall(text))


def _all_ssns(con) -> set[str]:
    rows = con.execute("""SELECT ssn FROM fcr_persons UNION SELECT verified_ssn FROM ndnh
                          UNION SELECT ncp_ssn FROM case_financial""").fetchall()
    return {r[0] for r in rows if r[0]} | set(SSNS.values())


def test_no_full_ssn_in_any_report_file(small):
    _, con, result = small
    ssns = _all_ssns(con)
    files = list(Path(result.directory).iterdir())
    assert any(f.name.endswith("_asap_letters.txt") for f in files)
    for f in files:
        text = f.read_text()
        digits = set(re.findall(r"(?<!\d)\d{9}(?!\d)", text)) | {
            a + b + c for a, b, c in re.findall(r"(\d{3})-(\d{2})-(\d{4})", text)
        }
        assert not digits & ssns, f"full SSN in {f.name}"


def test_state_files_hold_only_that_states_persons(small):
    _, _, result = small
    out = Path(result.directory)
    for state, own in PERSONS.items():
        other = set().union(*(ids for st, ids in PERSONS.items() if st != state))
        files = [p for p in out.iterdir() if p.name.startswith(f"{state}_") or p.name == f"{state}.html"]
        assert len(files) > 5
        seen = set()
        for f in files:
            words = _ids(f.read_text())
            assert not words & other, f"{f.name} shows another state's person"
            seen |= words
        assert seen & own


def test_national_index_lists_no_person(small):
    _, _, result = small
    out = Path(result.directory)
    for f in [out / "index.html", *out.glob("US_*.csv")]:
        assert not _ids(f.read_text()), f.name
