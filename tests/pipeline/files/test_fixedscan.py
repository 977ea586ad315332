"""The compiled fixed-width scanner must change nothing but speed: on any bytes, validating with it and
without it gives the same result, the same rejects and the same accepted frames."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipeline.files.fieldprog import compile_record, pattern_items
from pipeline.files.fixedscan import scan_record
from pipeline.files.layouts import Field, Record, load_all_layouts
from pipeline.files.read import detect_layout
from pipeline.files.validate import validate_file
from tests.support import minimal_file, valid_row

ROOT = Path(__file__).resolve().parents[3]
FIXED = [lay for lay in load_all_layouts().values() if lay.format == "fixed"]
INBOUND = [lay for lay in FIXED if lay.direction == "inbound"]
FUZZ = settings(
    max_examples=int(os.environ.get("FPLS_SOAK_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)


def _validate(path: Path, compiled: bool, batch_rows: int):
    sunk: dict[str, list[pl.DataFrame]] = {}
    result = validate_file(
        path, sink=lambda rid, frame: sunk.setdefault(rid, []).append(frame), compiled=compiled, batch_rows=batch_rows
    )
    return result.to_json(), {rid: pl.concat(frames) for rid, frames in sunk.items()}


def assert_same(path: Path, batch_rows: int = 3) -> None:
    plain, plain_frames = _validate(path, False, batch_rows)
    scanned, scanned_frames = _validate(path, True, batch_rows)
    assert scanned == plain
    assert scanned_frames.keys() == plain_frames.keys()
    for rid, frame in plain_frames.items():
        assert_frame_equal(scanned_frames[rid], frame)


def _fixed_files() -> list[Path]:
    files = [*(ROOT / "sample_files").rglob("*.dat"), *(ROOT / "tests" / "cases").rglob("*.dat")]
    return [p for p in sorted(files) if (lay := detect_layout(p)) is not None and lay.format == "fixed"]


@pytest.mark.parametrize("path", _fixed_files(), ids=lambda p: p.name)
def test_sample_and_case_files_agree(path):
    assert_same(path)


def _valid_file(layout) -> bytes:
    rows = [(r.id, valid_row(r)) for r in layout.by_role("data")] * 3
    return minimal_file(layout, rows).encode()


VALID = {layout.name: _valid_file(layout) for layout in INBOUND}
NASTY = b" 0159AZaz-*.\t\n\r\x00\xc3\xa9\xff"


@FUZZ
@given(st.sampled_from(INBOUND), st.data())
def test_mutated_files_agree(layout, data):
    raw = bytearray(VALID[layout.name])
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.sampled_from(NASTY))
    action = data.draw(st.sampled_from(["bytes", "crlf", "no_final_newline", "swap_lines", "blank_line"]))
    lines = bytes(raw).split(b"\n")
    if action == "crlf":
        raw = bytearray(b"\r\n".join(lines))
    elif action == "no_final_newline":
        raw = raw.rstrip(b"\n")
    elif action == "swap_lines" and len(lines) > 2:
        lines[0], lines[1] = lines[1], lines[0]
        raw = bytearray(b"\n".join(lines))
    elif action == "blank_line":
        lines.insert(data.draw(st.integers(0, len(lines) - 1)), b" " * layout.record_length)
        raw = bytearray(b"\n".join(lines))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scan.dat"
        path.write_bytes(bytes(raw))
        assert_same(path, batch_rows=data.draw(st.sampled_from([1, 2, 5, 1000])))


PATTERNS = sorted({f.pattern for lay in FIXED for r in lay.records for f in r.fields if f.pattern})


def test_most_layout_patterns_compile():
    compiled = [p for p in PATTERNS if pattern_items(p) is not None]
    assert len(compiled) >= len(PATTERNS) - 6, set(PATTERNS) - set(compiled)


@given(st.sampled_from([p for p in PATTERNS if pattern_items(p) is not None]), PRINTABLE.map(str.rstrip).filter(bool))
def test_compiled_patterns_match_like_the_regex(pattern, text):
    """One field of no type (any printable byte) and the pattern: the scanner passes what the regex matches."""
    record = Record(
        id="X", role="data", fields=(Field(name="value", type="text", start=1, length=12, pattern=pattern),)
    )
    buf = np.frombuffer(text.ljust(12).encode(), dtype=np.uint8)
    scan = scan_record(buf, np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64), compile_record(record), record)
    assert bool(scan.clean[0]) == bool(re.search(pattern, text))
    assert scan.accepted.get_column("value").to_list() == ([text] if scan.clean[0] else [])


def test_patterns_outside_the_subset_are_left_to_polars():
    assert pattern_items(r"^\d{5}(\d{4})?$") is None
    assert pattern_items(r"^[^*\\]*[^0*\\][^*\\]*$") is None
    assert pattern_items(r"^[A-") is None  # not a regex at all: never guessed at


def test_code_values_must_be_printable():
    record = Record(
        id="X", role="data", fields=(Field(name="kind", type="code", start=1, length=2, values=("A", "é")),)
    )
    with pytest.raises(ValueError, match="printable ASCII"):
        compile_record(record)


def test_the_loop_refuses_outputs_too_small_for_the_rows():
    record = Record(id="X", role="data", fields=(Field(name="value", type="alpha", start=1, length=4),))
    p = compile_record(record)
    buf = np.frombuffer(b"ABCD", dtype=np.uint8)
    rows = np.array([0, 4], dtype=np.int64)  # the second row lies past the end of buf
    outs = (
        np.empty((1, 4), np.uint64),
        np.empty((0, 2), np.int32),
        np.empty((0, 2), np.int64),
        np.empty((1, 2), np.bool_),
        np.empty(2, np.bool_),
    )
    from pipeline.files import _scan

    with pytest.raises(ValueError, match="do not fit"):
        _scan.scan_rows(
            0, 2, p.code_bytes.shape[1], buf, rows, p.fields, p.items, p.tables, p.code_bytes, p.code_len, *outs
        )
