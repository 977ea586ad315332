"""The foundation commands through a real subprocess: exit codes, JSON shape, no SSN leaks."""

from __future__ import annotations

import json
import re

import polars as pl

from pipeline.files.layouts import load_layout
from tests.support import minimal_file, run_fpls, valid_row

W4 = load_layout("ndnh_w4")
SSN_A, SSN_B = "501234567", "52345678X"


def _w4(tmp_path, bad: bool = False):
    rows = [valid_row(W4.record("W4")) | {"ssn": SSN_A}, valid_row(W4.record("W4")) | {"ssn": SSN_B if bad else SSN_A}]
    path = tmp_path / "w4.dat"
    path.write_text(minimal_file(W4, [("W4", r) for r in rows]))
    return path


def test_validate_json_accepted_with_a_rejected_record(tmp_path):
    rejects = tmp_path / "rejects.csv"
    out = run_fpls("validate", _w4(tmp_path, bad=True), "--json", "--rejects", rejects)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["schema_version"] == 1 and doc["layout"] == "ndnh_w4" and doc["file_status"] == "accepted"
    assert (doc["records"], doc["accepted"], doc["rejected"]) == (4, 3, 1)
    assert {e["line"] for e in doc["errors"]} == {3}
    assert {"line", "record_type", "field", "code", "message"} <= set(doc["errors"][0])
    assert pl.read_csv(rejects)["line"].to_list()[0] == 3
    for text in (out.stdout, out.stderr, rejects.read_text()):
        assert SSN_A not in text and SSN_B[:8] not in text


def test_validate_rejected_file_exits_65_with_reason(tmp_path):
    path = _w4(tmp_path)
    path.write_text("\n".join(path.read_text().splitlines()[1:]) + "\n")
    out = run_fpls("validate", path, "--layout", "ndnh_w4")
    assert out.returncode == 65
    assert "rejected" in out.stderr and "header" in out.stderr
    assert not re.search(r"\d{9}", out.stdout + out.stderr)


def test_validate_missing_file_and_unknown_layout(tmp_path):
    assert run_fpls("validate", tmp_path / "nope.dat").returncode == 66
    out = run_fpls("validate", _w4(tmp_path), "--layout", "nope")
    assert out.returncode == 2 and "unknown layout" in out.stderr


def test_layouts_list_and_show():
    listing = run_fpls("layouts", "--json")
    names = {row["name"] for row in json.loads(listing.stdout)["layouts"]}
    assert {"ndnh_w4", "fcr_input", "offset_debtor", "msfidm_match", "insurance_claim"} <= names
    shown = run_fpls("layouts", "show", "ndnh_w4")
    assert shown.returncode == 0 and "272-279" in shown.stdout and "hire_date" in shown.stdout


def test_read_writes_csv_and_parquet_and_masks_stdout(tmp_path):
    path = _w4(tmp_path)
    for suffix in ("csv", "parquet"):
        out = tmp_path / f"w4.{suffix}"
        assert run_fpls("read", path, "--out", out).returncode == 0
        frame = pl.read_csv(out, infer_schema=False) if suffix == "csv" else pl.read_parquet(out)
        assert frame["ssn"].to_list() == [SSN_A, SSN_A]
    shown = run_fpls("read", path)
    assert shown.returncode == 0 and SSN_A not in shown.stdout and "4567" in shown.stdout
