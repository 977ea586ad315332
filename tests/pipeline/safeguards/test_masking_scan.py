"""No real SSN of the cycle in any log, stdout/stderr, report, letter, reason file or exception text."""

from __future__ import annotations

import re

from tests.pipeline.cycle.conftest import query_store

SSN_SHAPES = re.compile(r"(?<!\d)(\d{3})-?(\d{2})-?(\d{4})(?!\d)")
# Everything a person reads; quarantine keeps the submitter's original bytes, so only its reasons count.
SCANNED = (("logs", "*"), ("reports", "*"), ("quarantine", "*.reason.json"))


def _cycle_ssns(home) -> set[str]:
    rows = query_store(
        home,
        """SELECT ssn FROM ssa_master UNION SELECT ssn FROM fcr_person_input
                                UNION SELECT ssn FROM ndnh UNION SELECT verified_ssn FROM fcr_persons""",
    )
    return set(rows["ssn"].drop_nulls())


def _leaks(text: str, ssns: set[str]) -> set[str]:
    return {"".join(m.groups()) for m in SSN_SHAPES.finditer(text)} & ssns


def test_no_full_ssn_anywhere_an_operator_or_reader_looks(sample_cycle):
    home = sample_cycle["home"]
    ssns = _cycle_ssns(home)
    assert len(ssns) > 100
    texts = {
        f"cmd{i}.{k}": getattr(out, k) for i, out in enumerate(sample_cycle["outputs"]) for k in ("stdout", "stderr")
    }
    for area, pattern in SCANNED:
        for path in (home / area).rglob(pattern):
            if path.is_file():
                texts[str(path.relative_to(home))] = path.read_bytes().decode("latin-1")
    assert any(k.startswith("reports/") for k in texts) and any(k.startswith("logs/") for k in texts)
    leaks = {name: sorted(_leaks(text, ssns))[:1] for name, text in texts.items() if _leaks(text, ssns)}
    assert not leaks, {k: "***-**-" + v[0][-4:] for k, v in leaks.items()}
