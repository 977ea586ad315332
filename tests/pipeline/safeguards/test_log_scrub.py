"""JSON log lines (logs/<cycle>.jsonl, logs/pii_access.jsonl, FILE.reason.json) mask SSN-shaped text inside
their strings and keep their numbers: a manifest entry's nine-digit byte count once became `***-**-6789`,
and the line was no longer JSON."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from pipeline.cycle.context import CycleLog
from pipeline.cycle.inbound import write_reason
from pipeline.safeguards.access_log import record_pii_access
from pipeline.safeguards.masking import scrub_json

SSN = "123456789"


def test_a_cycle_log_event_keeps_a_nine_digit_byte_count_and_masks_an_ssn(tmp_path):
    (tmp_path / "logs").mkdir()
    log = CycleLog(tmp_path, "20261102-01")
    entry = {"file": f"FCRRESP.KS.{SSN}.dat", "bytes": 234567891, "records": 987654321, "sha256": "ab" * 32}
    log.event("delivered", manifest=[entry], note=f"person {SSN} and 123-45-6789 done", size=345678912.0)
    line = log.path.read_text().splitlines()[-1]
    event = json.loads(line)  # parseable JSON
    assert event["manifest"][0]["bytes"] == 234567891 and event["manifest"][0]["records"] == 987654321
    assert event["size"] == 345678912.0
    assert event["manifest"][0]["file"] == "FCRRESP.KS.***-**-6789.dat"
    assert event["note"] == "person ***-**-6789 and ***-**-6789 done"
    assert SSN not in line and "123-45-6789" not in line


def test_an_ssn_never_reaches_a_log_in_any_shape():
    row = {
        "ssn": 123456789,  # a number under a key naming an SSN is masked all the same
        "verified_ssn": 12345678,  # even when a leading zero was lost
        SSN: "a key",
        "when": date(2026, 11, 2),
        "path": Path(f"/in/{SSN}.dat"),
        "nested": {"list": [SSN, (f"x{SSN}y", 5)], "ok": True, "none": None},
    }
    text = json.dumps(scrub_json(row))
    doc = json.loads(text)
    assert doc["ssn"] == "***-**-6789" and doc["verified_ssn"] == "***-**-5678"
    assert doc["***-**-6789"] == "a key" and doc["when"] == "2026-11-02" and doc["path"] == "/in/***-**-6789.dat"
    assert doc["nested"] == {"list": ["***-**-6789", ["x***-**-6789y", 5]], "ok": True, "none": None}
    assert SSN not in text and "12345678" not in text


def test_access_log_and_reason_files_stay_json(tmp_path):
    record_pii_access(tmp_path, "query person --show-ssn", {"ssn": SSN}, 123456789)
    access = json.loads((tmp_path / "logs" / "pii_access.jsonl").read_text())
    assert access["rows_shown"] == 123456789 and access["criteria"]["ssn"] == "***-**-6789"
    reason = json.loads(write_reason(tmp_path, "w4.dat", {"bytes": 123456789, "value": SSN}).read_text())
    assert reason == {"bytes": 123456789, "value": "***-**-6789"}
