"""Compiled scan of fixed-width files whose lines all have the layout's length (the normal case).

Why: cutting ~40 fields out of every 801-byte line with polars string kernels and then checking them
costs about ten passes over the data. This scanner makes one pass, in C (pipeline/files/_scan.c, built by
pip; one thread per core), and for each field: finds the end of its padding, runs the field's checks
as compiled by pipeline/files/fieldprog.py, and writes the result straight into Arrow buffers — text as
string *views* into the file's own bytes (nothing copied), dates as day numbers, amounts as integers.
The file is memory-mapped; the frames of clean rows keep the map alive for as long as they live.

What it decides is deliberately narrow: a row is `clean` when every byte is printable ASCII and every
check passes. Every other row is a *suspect*, handed back as its text to the ordinary polars/pandera
path (pipeline/files/validate.py), which makes every reject and every message. So the two paths cannot
disagree on what is accepted or why something is rejected; tests hold them equal on random files.

A batch is scanned only if every one of its lines ends exactly where the layout says (LF or CRLF,
the same for the whole file) and holds no other CR or LF; from the first batch where that fails, the
rest of the file goes the ordinary way, so line numbers always match what a line reader sees.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from pipeline.files import _scan
from pipeline.files.fieldprog import (
    OUT_DATE,
    OUT_TEXT,
    RecordProgram,
    compile_identifiers,
    compile_record,
)
from pipeline.files.layouts import Layout
from pipeline.files.lines import lines_from_bytes

LINE, LINE_NO = "line", "line_no"
THREADS = os.cpu_count() or 1


def _in_parallel(n: int, call) -> list:
    """call(lo, hi) over [0, n) cut into one slice per core (the C calls release the GIL)."""
    if n < 10_000:
        return [call(0, n)]
    parts = np.linspace(0, n, THREADS + 1).astype(int)
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(call, parts[:-1], parts[1:]))


def _scan_rows(buf: np.ndarray, rows: np.ndarray, p: RecordProgram, outs: tuple[np.ndarray, ...]) -> None:
    args = (p.code_bytes.shape[1], buf, rows, p.fields, p.items, p.tables, p.code_bytes, p.code_len, *outs)
    _in_parallel(len(rows), lambda lo, hi: _scan.scan_rows(lo, hi, *args))


@dataclass
class Scan:
    """One record type's rows of a batch: which are clean, and the clean ones as a typed frame."""

    clean: np.ndarray
    accepted: pl.DataFrame


def _validity(present: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(present, bitorder="little"))


def _column(kind: int, slot: int, present: np.ndarray, outs, buf: np.ndarray, n: int) -> pl.Series:
    views, dates, amounts = outs
    if kind == OUT_TEXT:
        array = pa.Array.from_buffers(
            pa.string_view(), n, [_validity(present), pa.py_buffer(views[slot]), pa.py_buffer(buf)]
        )
    elif kind == OUT_DATE:
        array = pa.Array.from_buffers(pa.date32(), n, [_validity(present), pa.py_buffer(dates[slot])])
    else:
        array = pa.Array.from_buffers(pa.int64(), n, [_validity(present), pa.py_buffer(amounts[slot])])
    return pl.from_arrow(array)


def _typed_frame(
    record, p: RecordProgram, line_no: np.ndarray, present: np.ndarray, outs, buf: np.ndarray
) -> pl.DataFrame:
    kinds, slots = p.column("out_kind"), p.column("out_slot")
    columns = {LINE_NO: pl.Series(LINE_NO, line_no, dtype=pl.Int64)}
    for i, f in enumerate(record.fields):
        if f.kept:
            columns[f.name] = _column(int(kinds[i]), int(slots[i]), present[i], outs, buf, len(line_no))
    return pl.DataFrame(columns)


def scan_record(buf: np.ndarray, rows: np.ndarray, line_no: np.ndarray, p: RecordProgram, record) -> Scan:
    """Scan `rows` (byte offsets into buf) as `record`; the clean rows come back typed, in row order."""
    n = len(rows)
    n_text, n_date, n_amount = p.n_out
    # zeroed by calloc: the C loop writes nothing for a blank value, so blank columns cost no memory
    views = np.zeros((n_text, 2 * n), dtype=np.uint64)
    dates = np.zeros((n_date, n), dtype=np.int32)
    amounts = np.zeros((n_amount, n), dtype=np.int64)
    present = np.zeros((len(record.fields), n), dtype=np.bool_)
    clean = np.empty(n, dtype=np.bool_)
    _scan_rows(buf, rows, p, (views, dates, amounts, present, clean))
    for rule in p.rules:
        clean &= np.logical_or.reduce(present[list(rule)], axis=0)
    frame = _typed_frame(record, p, line_no, present, (views, dates, amounts), buf)
    if p.needs_polars:  # patterns the scanner cannot run: polars checks them on the cut columns
        patterns = [
            pl.col(name).is_null() | pl.col(name).str.contains(record.field(name).pattern) for name in p.needs_polars
        ]
        clean &= frame.select(pl.all_horizontal(patterns)).to_series().to_numpy()
    return Scan(clean, frame if clean.all() else frame.filter(pl.Series(clean)))


# ---------------------------------------------------------------- batches of a uniform file


@dataclass
class ScannedBatch:
    """A batch of lines: every row's record type, the clean rows already typed per record, and the
    suspects' text (CLEAN false) for the ordinary path."""

    lines: pl.DataFrame  # line_no, record_type, clean, line (text of suspects only)
    scans: dict[str, Scan]

    @property
    def height(self) -> int:
        return self.lines.height


@dataclass
class ResumeLineReader:
    """From this 1-based line on, the file is not uniform: read it line by line."""

    line: int


def _terminator(buf: np.ndarray, length: int) -> bytes | None:
    end = bytes(buf[length : length + 2])
    return b"\n" if end[:1] == b"\n" else b"\r\n" if end == b"\r\n" else None


def _record_types(buf: np.ndarray, n: int, stride: int, layout: Layout, terminator: bytes) -> np.ndarray | None:
    """Each line's record as an index into layout.records (first specific match in layout order, else the
    default record, else -1), or None if a line does not end with the terminator where it should."""
    m = compile_identifiers(layout)
    rows = np.empty(n, dtype=np.int64)
    ends_ok = _in_parallel(
        n,
        lambda lo, hi: _scan.classify_lines(
            buf[lo * stride : hi * stride],
            stride,
            layout.record_length,
            terminator,
            m.starts,
            m.lengths,
            m.values,
            len(m.starts),
            rows[lo:hi],
        ),
    )
    return m.record_index[rows] if all(ends_ok) else None


def _suspect_text(buf: np.ndarray, offsets: np.ndarray, length: int) -> pl.Series | None:
    """The suspects' lines decoded exactly as the line reader decodes them; None if one holds a CR or LF
    (then the file's line boundaries are not the layout's and the batch must be read line by line)."""
    rows = buf[offsets[:, None] + np.arange(length)]
    if ((rows == 10) | (rows == 13)).any():
        return None
    newline = np.full((len(offsets), 1), 10, dtype=np.uint8)
    return lines_from_bytes(np.hstack([rows, newline]).tobytes())


def _scan_batch(
    buf: np.ndarray, first_line: int, n: int, stride: int, layout: Layout, terminator: bytes
) -> ScannedBatch | None:
    kinds = _record_types(buf, n, stride, layout, terminator)
    if kinds is None:
        return None
    offsets = np.arange(n, dtype=np.int64) * stride
    line_no = np.arange(first_line, first_line + n, dtype=np.int64)
    clean = np.zeros(n, dtype=np.bool_)
    scans = {}
    for i, rec in enumerate(layout.records):
        rows = np.flatnonzero(kinds == i)
        if len(rows):
            scans[rec.id] = scan_record(buf, offsets[rows], line_no[rows], compile_record(rec), rec)
            clean[rows] = scans[rec.id].clean
    suspects = np.flatnonzero(~clean)
    text = pl.Series(LINE, dtype=pl.Utf8).extend_constant(None, n)
    if len(suspects):
        found = _suspect_text(buf, offsets[suspects], layout.record_length)
        if found is None:
            return None
        text = text.scatter(suspects, found)
    ids = pl.Series("record_type", kinds).replace_strict(
        {i: r.id for i, r in enumerate(layout.records)}, default=None, return_dtype=pl.Utf8
    )
    return ScannedBatch(pl.DataFrame({LINE_NO: line_no, "record_type": ids, "clean": clean, LINE: text}), scans)


def iter_scanned(path: Path, layout: Layout, batch_rows: int) -> Iterator[ScannedBatch | ResumeLineReader]:
    """Scanned batches while the file is uniform, then (if ever it is not) where line reading must resume."""
    size, length = path.stat().st_size, layout.record_length
    with path.open("rb") as fh:  # the map outlives the handle; frames of clean rows point into it
        data = np.frombuffer(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ), dtype=np.uint8)
    terminator = _terminator(data, length)
    stride = length + len(terminator or b"")
    rows = size // stride if terminator else 0
    done = 0
    while done < rows:
        n = min(batch_rows, rows - done)
        batch = _scan_batch(data[done * stride : (done + n) * stride], done + 1, n, stride, layout, terminator)
        if batch is None:
            break
        done += n
        yield batch
    if done * stride < size:
        yield ResumeLineReader(done + 1)
