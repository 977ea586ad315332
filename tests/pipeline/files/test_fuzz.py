"""Hypothesis: whatever bytes arrive, validation never raises and conservation holds."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.files.layouts import load_all_layouts
from pipeline.files.validate import validate_file
from tests.support import csv_text, minimal_file, valid_row

FIXED = [lay for lay in load_all_layouts().values() if lay.direction == "inbound" and lay.format == "fixed"]
CSV = [lay for lay in load_all_layouts().values() if lay.direction == "inbound" and lay.format == "csv"]
FUZZ = settings(
    max_examples=int(os.environ.get("FPLS_SOAK_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _check(data: bytes, layout=None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.dat"
        path.write_bytes(data)
        result = validate_file(path, layout)
        assert result.records == result.accepted + result.rejected
        if result.file_status == "accepted":
            assert result.rejected == result.rejects["line"].n_unique()
        else:
            assert result.accepted == 0
        result.to_json()


def _valid_file(layout) -> bytes:
    data = [(r.id, valid_row(r)) for r in layout.by_role("data")] * 2
    return minimal_file(layout, data).encode()


# Built before any @given runs: valid_row may itself use hypothesis.find for unusual patterns.
VALID = {layout.name: _valid_file(layout) for layout in FIXED}
VALID_ROWS = {layout.name: valid_row(layout.by_role("data")[0]) for layout in CSV}


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes(data):
    _check(data)


@FUZZ
@given(st.sampled_from(FIXED), st.data())
def test_mutated_valid_files(layout, data):
    lines = VALID[layout.name].split(b"\n")
    i = data.draw(st.integers(0, len(lines) - 1))
    action = data.draw(st.sampled_from(["truncate", "extend", "junk", "drop", "dup", "crlf", "utf16", "bom", "nul"]))
    line = lines[i]
    if action == "truncate":
        lines[i] = line[: data.draw(st.integers(0, max(0, len(line) - 1)))]
    elif action == "extend":
        lines[i] = line + data.draw(st.binary(min_size=1, max_size=50)).replace(b"\n", b"")
    elif action == "junk":
        pos = data.draw(st.integers(0, max(0, len(line) - 1)))
        lines[i] = line[:pos] + data.draw(st.binary(min_size=1, max_size=8)) + line[pos + 1 :]
    elif action == "drop":
        del lines[i]
    elif action == "dup":
        lines.insert(i, line)
    elif action == "crlf":
        lines = [ln + b"\r" if ln else ln for ln in lines]
    elif action == "nul":
        lines[i] = line.replace(b" ", b"\x00", 3)
    raw = b"\n".join(lines)
    if action == "utf16":
        raw = raw.decode("latin-1").encode("utf-16")
    if action == "bom":
        raw = b"\xef\xbb\xbf" + raw
    _check(raw, layout if data.draw(st.booleans()) else None)


@FUZZ
@given(st.sampled_from(FIXED))
def test_header_only_and_trailer_only(layout):
    lines = VALID[layout.name].split(b"\n")
    _check(lines[0] + b"\n", layout)
    _check(lines[-2] + b"\n", layout)


@FUZZ
@given(st.sampled_from(CSV), st.lists(st.text(max_size=12), max_size=8), st.booleans())
def test_csv_with_random_cells(layout, cells, drop_column):
    row = dict(VALID_ROWS[layout.name])
    for name, value in zip(list(row), cells):
        row[name] = value
    text = csv_text(layout, [row, VALID_ROWS[layout.name]])
    if drop_column:
        header, *rest = text.split("\n")
        text = "\n".join([header.replace(header.split(",")[0], "zzz", 1), *rest])
    _check(text.encode("utf-8", "surrogatepass"), layout)
