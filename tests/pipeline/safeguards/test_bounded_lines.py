"""Memory is bounded for long lines (DESIGN §10): a line longer than its layout allows is rejected as
LINE_TOO_LONG without ever being held whole, in a fixed-width file, a CSV, or a file with no newline at all.

Each case runs in a fresh process that reports its peak RSS; the line is 100 MB, the allowance 40 MB over the
same process reading the small file (a reader that holds the line once already needs 100 MB more)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.files.layouts import load_layout
from pipeline.files.lines import first_overlong_line, iter_line_batches
from pipeline.files.read import max_line_bytes
from tests.pipeline.cycle.builder import w4_file
from tests.pipeline.cycle.conftest import ROOT
from tests.support import csv_text

LINE_MB = 100
ALLOWANCE_MB = 40
# Peak RSS from VmHWM (this process's own memory; ru_maxrss would count the forking parent's too).
PROBE = """
import json, re, sys
from pathlib import Path
from pipeline.files.validate import validate_file
r = validate_file(sys.argv[1], batch_rows=1000)
codes = sorted(set(r.rejects["code"].to_list()) | {e["code"] for e in r.file_errors})
hwm = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)) // 1024
print(json.dumps({"records": r.records, "accepted": r.accepted, "rejected": r.rejected, "codes": codes,
                  "rss_mb": hwm}))
"""


def _probe(path) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _w4_with(tmp_path, long: bytes | None, name: str):
    lines = w4_file().split(b"\n")[:-1]
    if long is not None:
        lines.insert(2, long)
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> dict:
    return _probe(_w4_with(tmp_path_factory.mktemp("small"), None, "small.dat"))


def test_a_long_fixed_width_line_is_rejected_without_being_held(tmp_path, baseline):
    path = _w4_with(tmp_path, b"W4" + b"X" * (LINE_MB << 20), "long.dat")
    got = _probe(path)
    assert "LINE_TOO_LONG" in got["codes"], got
    assert got["records"] == baseline["records"] + 1 and got["rejected"] >= 1
    assert got["rss_mb"] - baseline["rss_mb"] < ALLOWANCE_MB, (got["rss_mb"], baseline["rss_mb"])


def test_a_file_without_any_newline_is_bounded_too(tmp_path, baseline):
    path = tmp_path / "no_newline.dat"
    path.write_bytes(w4_file()[:801] + b"\n" + b"W4" + b"9" * (LINE_MB << 20))
    got = _probe(path)
    assert "LINE_TOO_LONG" in got["codes"], got
    assert got["rss_mb"] - baseline["rss_mb"] < ALLOWANCE_MB, (got["rss_mb"], baseline["rss_mb"])


def test_a_csv_with_a_line_too_long_is_refused_without_being_read(tmp_path, baseline):
    layout = load_layout("new_hire_csv")
    text = csv_text(layout, [{"ssn": "123456781", "first_name": "ANNA", "last_name": "SMITH"}])
    path = tmp_path / "long.csv"
    path.write_bytes(text.encode() + b"123456782,BOB," + b"Z" * (LINE_MB << 20) + b"\n")
    got = _probe(path)
    assert got["codes"] == ["LINE_TOO_LONG"] and got["accepted"] == 0 and got["rejected"] == 2, got
    assert got["rss_mb"] - baseline["rss_mb"] < ALLOWANCE_MB, (got["rss_mb"], baseline["rss_mb"])


def test_the_limit_comes_from_the_layout_and_the_reader_cuts_at_it(tmp_path):
    layout = load_layout("ndnh_w4")
    limit = max_line_bytes(layout)
    assert layout.record_length < limit < layout.record_length * 3
    path = tmp_path / "cut.dat"
    path.write_bytes(b"A" * 10 + b"\n" + b"B" * (limit + 5000) + b"\r\n" + b"C" * limit + b"\r\n")
    assert first_overlong_line(path, limit) == 2
    lines = [ln for batch in iter_line_batches(path, 2, max_line=limit) for ln in batch["line"]]
    assert lines == ["A" * 10, "B" * (limit + 1), "C" * limit]
