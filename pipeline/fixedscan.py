"""Compiled scan of fixed-width files whose lines all have the layout's length (the normal case).

Why: cutting ~40 fields out of every 801-byte line with polars string kernels and then checking them
costs about ten passes over the data. This scanner makes one pass per row, in parallel (numba), and
for each field: finds the end of its padding, runs its compiled checks (pipeline/fieldprog.py),
and writes the result straight into Arrow buffers — text as string *views* into the file's own
bytes (nothing copied), dates as day numbers, amounts as integers.

What it decides is deliberately narrow: a row is `clean` when every byte is printable ASCII and every
check passes. Every other row is a *suspect*, handed back as its text to the ordinary polars/pandera
path (pipeline/validate.py), which makes every reject and every message. So the two paths cannot
disagree on what is accepted or why something is rejected; tests hold them equal on random files.

A batch is scanned only if every one of its lines ends exactly where the layout says (LF or CRLF,
the same for the whole file) and holds no other CR or LF; from the first batch where that fails, the
rest of the file goes the ordinary way, so line numbers always match what a line reader sees.
"""
from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
from numba import njit, prange

from pipeline.fieldprog import OUT_AMOUNT, OUT_DATE, OUT_TEXT, RecordProgram, compile_record
from pipeline.layouts import Layout

LINE, LINE_NO = "line", "line_no"
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


@njit(cache=True, inline="always")
def _days_from_civil(y, m, d):
    """Days since 1970-01-01 (H. Hinnant's algorithm), the Arrow date32 value."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@njit(cache=True, inline="always")
def _digits(buf, at, n):
    value = 0
    for i in range(n):
        value = value * 10 + (buf[at + i] - 48)
    return value


@njit(cache=True)
def _valid_date(buf, at):
    y, m, d = _digits(buf, at, 4), _digits(buf, at + 4, 2), _digits(buf, at + 6, 2)
    if y < 1 or m < 1 or m > 12 or d < 1:
        return False
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    return d <= _MONTH_DAYS[m] + (1 if (m == 2 and leap) else 0)


@njit(cache=True)
def _program_ok(buf, at, n, lo, hi, item_min, item_max, tables):
    """Does buf[at:at+n] match the sequence of items lo..hi (only the last may vary in length)?"""
    pos = 0
    for it in range(lo, hi):
        take = n - pos if it == hi - 1 else item_min[it]
        if take < item_min[it] or take > item_max[it] or pos + take > n:
            return False
        for i in range(take):
            if not tables[it, buf[at + pos + i]]:
                return False
        pos += take
    return pos == n


@njit(cache=True)
def _code_ok(buf, at, n, lo, hi, code_bytes, code_len):
    for c in range(lo, hi):
        if code_len[c] == n:
            same = True
            for i in range(n):
                if code_bytes[c, i] != buf[at + i]:
                    same = False
                    break
            if same:
                return True
    return False


SPACES = np.uint64(0x2020202020202020)


@njit(cache=True, inline="always")
def _word(buf, at):
    """Eight bytes as one little-endian word (LLVM folds the eight loads into one)."""
    w = np.uint64(0)
    for i in range(8):
        w |= np.uint64(buf[at + np.uint64(i)]) << np.uint64(8 * i)
    return w


# Offsets are unsigned below so that numba drops its negative-index fix-up from these hot loops.
@njit(cache=True, inline="always")
def _measure(buf, at, width, byte_class):
    """(length without trailing spaces, whether every byte of the value is in the field's class).
    The padding is skipped eight bytes at a time; only the value itself is looked at byte by byte."""
    n = width
    while n >= 8 and _word(buf, at + n - np.uint64(8)) == SPACES:
        n -= np.uint64(8)
    while n > 0 and buf[at + n - np.uint64(1)] == 32:
        n -= np.uint64(1)
    bad = False
    if byte_class == 1:          # alpha: A-Z, space, hyphen
        for i in range(n):
            b = buf[at + i]
            bad |= ((b < 65) | (b > 90)) & (b != 32) & (b != 45)
    elif byte_class == 2:        # alnum: printable without lower case
        for i in range(n):
            b = buf[at + i]
            bad |= (b < 32) | (b > 126) | ((b >= 97) & (b <= 122))
    elif byte_class == 3:        # digits
        for i in range(n):
            b = buf[at + i]
            bad |= (b < 48) | (b > 57)
    return n, not bad


@njit(cache=True, inline="always")
def _put_view(views, slot, r, buf, at, n):
    """One Arrow string view as two little-endian words: length and the first 4 bytes, then either the
    next 8 bytes (values of up to 12 bytes live inline) or buffer 0 and the value's offset."""
    head, tail = np.uint64(n), np.uint64(0)
    for i in range(min(n, 4)):
        head |= np.uint64(buf[at + i]) << np.uint64(32 + 8 * i)
    if n <= 12:
        for i in range(4, n):
            tail |= np.uint64(buf[at + i]) << np.uint64(8 * (i - 4))
    else:
        tail = np.uint64(at) << np.uint64(32)
    views[slot, 2 * r] = head
    views[slot, 2 * r + 1] = tail


@njit(cache=True, inline="always")
def _field_ok(buf, at, n, f, item_lo, item_hi, item_min, item_max, tables, code_lo, code_hi,
              code_bytes, code_len, is_date, is_filler):
    """The field's checks on a non-blank value of n bytes (blank values are REQUIRED's business)."""
    if is_filler[f]:
        return False
    if code_lo[f] >= 0 and not _code_ok(buf, at, n, code_lo[f], code_hi[f], code_bytes, code_len):
        return False
    if item_hi[f] > item_lo[f] and not _program_ok(buf, at, n, item_lo[f], item_hi[f], item_min, item_max, tables):
        return False
    return not is_date[f] or (n == 8 and _valid_date(buf, at))


@njit(cache=True, inline="always")
def _blank_row(r, out_kind, out_slot, views, dates, amounts, present):
    """A row that is not clean is never read from these outputs, but Arrow must still find sane values."""
    for f in range(out_kind.shape[0]):
        present[f, r] = False
        if out_kind[f] == 1:
            views[out_slot[f], 2 * r] = 0
            views[out_slot[f], 2 * r + 1] = 0
        elif out_kind[f] == 2:
            dates[out_slot[f], r] = 0
        elif out_kind[f] == 3:
            amounts[out_slot[f], r] = 0


@njit(cache=True, parallel=True)
def _scan_rows(buf, rows, start, width, required, byte_class, out_kind, out_slot, item_lo, item_hi,
               item_min, item_max, tables, code_lo, code_hi, code_bytes, code_len, is_date, is_filler,
               views, dates, amounts, present, clean):
    """Check and cut every row; clean[r] says whether row r passed everything. A row stops at its first
    failure: nothing it would write matters, it goes back to the ordinary path as text."""
    for r in prange(rows.shape[0]):
        row, ok, any_value = rows[r], True, False
        for f in range(start.shape[0]):
            at = np.uint64(row + start[f])
            n, in_class = _measure(buf, at, np.uint64(width[f]), byte_class[f])
            present[f, r] = n > 0
            any_value = any_value or n > 0
            if n == 0:
                ok = not required[f]
            else:
                ok = in_class and _field_ok(buf, at, n, f, item_lo, item_hi, item_min, item_max, tables, code_lo,
                               code_hi, code_bytes, code_len, is_date, is_filler)
            if not ok:
                break
            kind, slot = out_kind[f], out_slot[f]
            if kind == 1:
                _put_view(views, slot, r, buf, at, n)
            elif kind == 2:
                dates[slot, r] = _days_from_civil(_digits(buf, at, 4), _digits(buf, at + 4, 2), _digits(buf, at + 6, 2)) if n else 0
            elif kind == 3:
                ok = n <= 18
                amounts[slot, r] = _digits(buf, at, n)
        clean[r] = ok and any_value
        if not clean[r]:
            _blank_row(r, out_kind, out_slot, views, dates, amounts, present)


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
        array = pa.Array.from_buffers(pa.string_view(), n, [_validity(present), pa.py_buffer(views[slot]), pa.py_buffer(buf)])
    elif kind == OUT_DATE:
        array = pa.Array.from_buffers(pa.date32(), n, [_validity(present), pa.py_buffer(dates[slot])])
    else:
        array = pa.Array.from_buffers(pa.int64(), n, [_validity(present), pa.py_buffer(amounts[slot])])
    return pl.from_arrow(array)


def scan_record(buf: np.ndarray, rows: np.ndarray, line_no: np.ndarray, program: RecordProgram, record) -> Scan:
    """Scan `rows` (byte offsets into buf) as `record`; the clean rows come back typed, in row order."""
    n = len(rows)
    n_text, n_date, n_amount = program.n_out
    views = np.empty((n_text, 2 * n), dtype=np.uint64)
    dates = np.empty((n_date, n), dtype=np.int32)
    amounts = np.empty((n_amount, n), dtype=np.int64)
    present = np.empty((len(record.fields), n), dtype=np.bool_)
    clean = np.empty(n, dtype=np.bool_)
    p = program
    _scan_rows(buf, rows, p.start, p.width, p.required, p.byte_class, p.out_kind, p.out_slot, p.item_lo,
               p.item_hi, p.item_min, p.item_max, p.tables, p.code_lo, p.code_hi, p.code_bytes, p.code_len,
               p.is_date, p.is_filler, views, dates, amounts, present, clean)
    for rule in p.rules:
        clean &= np.logical_or.reduce(present[list(rule)], axis=0)
    columns = {LINE_NO: pl.Series(LINE_NO, line_no, dtype=pl.Int64)}
    for i, f in enumerate(record.fields):
        if f.kept:
            columns[f.name] = _column(int(p.out_kind[i]), int(p.out_slot[i]), present[i], (views, dates, amounts), buf, n)
    frame = pl.DataFrame(columns)
    if p.needs_polars:        # patterns the scanner cannot run: polars checks them on the cut columns
        patterns = [pl.col(name).is_null() | pl.col(name).str.contains(record.field(name).pattern) for name in p.needs_polars]
        clean &= frame.select(pl.all_horizontal(patterns)).to_series().to_numpy()
    return Scan(clean, frame if clean.all() else frame.filter(pl.Series(clean)))


# ---------------------------------------------------------------- batches of a uniform file


@dataclass
class ScannedBatch:
    """A batch of lines: every row's record type, the clean rows already typed per record, and the
    suspects' text (CLEAN false) for the ordinary path."""

    lines: pl.DataFrame                 # line_no, record_type, clean, line (text of suspects only)
    scans: dict[str, Scan]

    @property
    def height(self) -> int:
        return self.lines.height


@dataclass
class ResumeLineReader:
    """From this 1-based line on, the file is not uniform: read it line by line."""

    line: int


def _terminator(buf: np.ndarray, length: int) -> bytes | None:
    end = bytes(buf[length:length + 2])
    return b"\n" if end[:1] == b"\n" else b"\r\n" if end == b"\r\n" else None


def _record_types(buf: np.ndarray, offsets: np.ndarray, layout: Layout) -> np.ndarray:
    """Index into layout.records of each row's record (first specific match, then the default), -1 if none."""
    kind = np.full(len(offsets), -1, dtype=np.int64)
    for i, rec in enumerate(layout.records):
        if rec.is_default:
            continue
        hit = np.ones(len(offsets), dtype=np.bool_)
        for k, byte in enumerate(rec.match_value.encode()):
            hit &= buf[offsets + rec.match_start - 1 + k] == byte
        kind[(kind < 0) & hit] = i
    default = next((i for i, r in enumerate(layout.records) if r.is_default), -1)
    kind[kind < 0] = default
    return kind


def _ends_ok(buf: np.ndarray, offsets: np.ndarray, length: int, terminator: bytes) -> bool:
    return all(bool((buf[offsets + length + k] == byte).all()) for k, byte in enumerate(terminator))


def _suspect_text(buf: np.ndarray, offsets: np.ndarray, length: int) -> pl.Series | None:
    """The suspects' lines decoded exactly as the line reader decodes them; None if one holds a CR or LF
    (then the file's line boundaries are not the layout's and the batch must be read line by line)."""
    from pipeline.read import lines_from_bytes
    rows = buf[offsets[:, None] + np.arange(length)]
    if ((rows == 10) | (rows == 13)).any():
        return None
    newline = np.full((len(offsets), 1), 10, dtype=np.uint8)
    return lines_from_bytes(np.hstack([rows, newline]).tobytes())


def _scan_batch(buf: np.ndarray, first_line: int, n: int, stride: int, layout: Layout) -> ScannedBatch | None:
    offsets = np.arange(n, dtype=np.int64) * stride
    kinds = _record_types(buf, offsets, layout)
    line_no = np.arange(first_line, first_line + n, dtype=np.int64)
    clean = np.zeros(n, dtype=np.bool_)
    scans = {}
    for i, rec in enumerate(layout.records):
        rows = np.flatnonzero(kinds == i)
        if len(rows):
            scans[rec.id] = scan_record(buf, offsets[rows], line_no[rows], compile_record(rec), rec)
            clean[rows] = scans[rec.id].clean
    suspects = np.flatnonzero(~clean)
    text = pl.Series(LINE, [None] * n, dtype=pl.Utf8)
    if len(suspects):
        found = _suspect_text(buf, offsets[suspects], layout.record_length)
        if found is None:
            return None
        text = text.scatter(suspects, found)
    ids = np.array([r.id for r in layout.records] + [None], dtype=object)
    return ScannedBatch(pl.DataFrame({LINE_NO: line_no, "record_type": pl.Series(ids[kinds], dtype=pl.Utf8),
                                      "clean": clean, LINE: text}), scans)


def iter_scanned(path: Path, layout: Layout, batch_rows: int) -> Iterator[ScannedBatch | ResumeLineReader]:
    """Scanned batches while the file is uniform, then (if ever it is not) where line reading must resume."""
    size, length = path.stat().st_size, layout.record_length
    with path.open("rb") as fh:   # the map outlives the handle; frames of clean rows point into it
        data = np.frombuffer(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ), dtype=np.uint8)
    terminator = _terminator(data, length)
    stride = length + len(terminator or b"")
    rows = size // stride if terminator else 0
    done = 0
    while done < rows:
        n = min(batch_rows, rows - done)
        buf = data[done * stride:(done + n) * stride]
        if not _ends_ok(buf, np.arange(n, dtype=np.int64) * stride, length, terminator):
            break
        batch = _scan_batch(buf, done + 1, n, stride, layout)
        if batch is None:
            break
        done += n
        yield batch
    if done * stride < size:
        yield ResumeLineReader(done + 1)
