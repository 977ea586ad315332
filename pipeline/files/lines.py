"""Lines of a file as polars frames of (line_no, line), without a per-record Python loop.

polars' multi-threaded CSV scanner reads the lines in batches (memory is bounded by the batch, not the
file). LF and CRLF both end a line; a lone CR does not. Bytes outside printable ASCII are decoded
lossily (never a crash): validation rejects such a line as NON_ASCII.

Memory is bounded for long lines too (DESIGN §10): given a layout's limit (`max_line`), a file holding a
longer line is read by a bounded reader that keeps only the first `max_line + 1` bytes of such a line (the
rest is skipped in chunks, never held), so validation rejects it as LINE_TOO_LONG.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from pathlib import Path

import polars as pl

LINE, LINE_NO = "line", "line_no"
BATCH_ROWS = 250_000
# polars' CSV scanner hands each line over whole when the separator byte never occurs in the file, so
# the separator is a control byte the file does not contain (found by one memchr pass per candidate).
SEPARATOR_CANDIDATES = (b"\x1f", b"\x1e", b"\x1d", b"\x1c", b"\x01", b"\x02", b"\x03", b"\x04")


def _absent_byte_in(data) -> str | None:
    return next((c.decode() for c in SEPARATOR_CANDIDATES if data.find(c) < 0), None)


def _absent_byte(path: Path) -> str | None:
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return _absent_byte_in(data)


def _line_options(separator: str) -> dict:
    return dict(
        has_header=False,
        separator=separator,
        quote_char=None,
        schema={LINE: pl.Utf8},
        encoding="utf8-lossy",
        raise_if_empty=False,
    )


def _scan_lines(path: Path, separator: str, skip: int) -> pl.LazyFrame:
    return (
        pl.scan_csv(path, **_line_options(separator))
        .with_row_index(LINE_NO, offset=1)
        .with_columns(pl.col(LINE_NO).cast(pl.Int64))
        .slice(skip)
    )


def _python_lines(data: bytes) -> list[str | None]:
    """Fallback for junk holding every candidate byte: split in Python, decoded as the scanner does."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [ln.removesuffix(b"\r").decode("utf-8", "replace") or None for ln in lines]


def _split_lines(path: Path, batch_rows: int, skip: int) -> Iterator[pl.DataFrame]:
    texts = _python_lines(path.read_bytes())
    for start in range(skip, len(texts), batch_rows):
        yield pl.DataFrame(
            {
                LINE_NO: pl.Series(
                    range(start + 1, start + 1 + len(texts[start : start + batch_rows])), dtype=pl.Int64
                ),
                LINE: texts[start : start + batch_rows],
            }
        )


def lines_from_bytes(data: bytes) -> pl.Series:
    """Newline-ended lines held in memory, decoded exactly as `iter_line_batches` decodes a file's."""
    separator = _absent_byte_in(data)
    if separator is None:
        return pl.Series(LINE, _python_lines(data), dtype=pl.Utf8)
    return pl.read_csv(data, **_line_options(separator)).get_column(LINE)


CHUNK = 1 << 22


def first_overlong_line(path: Path, max_line: int) -> int | None:
    """The number of the first line longer than `max_line` bytes (its terminator aside), else None; one pass
    in fixed-size chunks, so a file without any newline costs a chunk of memory, not its size."""
    line_no, run = 1, 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            parts = chunk.split(b"\n")
            for i, part in enumerate(parts):
                run += len(part)
                if run > max_line + 1:  # +1: a CR before the LF
                    return line_no
                if i < len(parts) - 1:
                    line_no, run = line_no + 1, 0
    return None


def _bounded_lines(path: Path, max_line: int) -> Iterator[bytes]:
    """Each line's bytes (terminator removed), a line longer than max_line cut to max_line + 1 bytes."""
    keep, held, run = max_line + 1, bytearray(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            parts = chunk.split(b"\n")
            for i, part in enumerate(parts):
                if len(held) < keep:
                    held += part[: keep - len(held)]
                run += len(part)
                if i < len(parts) - 1:
                    yield bytes(held) if run > keep else bytes(held).removesuffix(b"\r")
                    held, run = bytearray(), 0
    if held:
        yield bytes(held) if run > keep else bytes(held).removesuffix(b"\r")


def _bounded_batches(path: Path, max_line: int, batch_rows: int, skip: int) -> Iterator[pl.DataFrame]:
    texts: list[str | None] = []
    start = skip + 1
    for n, raw in enumerate(_bounded_lines(path, max_line), 1):
        if n <= skip:
            continue
        texts.append(raw.decode("utf-8", "replace") or None)
        if len(texts) == batch_rows:
            yield _frame(start, texts)
            start, texts = start + len(texts), []
    if texts:
        yield _frame(start, texts)


def _frame(start: int, texts: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {LINE_NO: pl.Series(range(start, start + len(texts)), dtype=pl.Int64), LINE: pl.Series(texts, dtype=pl.Utf8)}
    )


def iter_line_batches(
    path: Path, batch_rows: int = BATCH_ROWS, skip: int = 0, max_line: int | None = None
) -> Iterator[pl.DataFrame]:
    """Yield frames of (line_no, line): 1-based physical line numbers; a blank line is null.
    `skip` lines at the start are not yielded (numbering still counts them). With `max_line`, a line longer
    than that is cut to max_line + 1 bytes instead of being held whole (see the module docstring)."""
    if path.stat().st_size == 0:
        return
    if max_line is not None and first_overlong_line(path, max_line) is not None:
        yield from _bounded_batches(path, max_line, batch_rows, skip)
        return
    separator = _absent_byte(path)
    if separator is None:
        yield from _split_lines(path, batch_rows, skip)
        return
    yield from _scan_lines(path, separator, skip).collect_batches(chunk_size=batch_rows)


def first_line(path: Path, limit: int = 65536) -> str:
    with path.open("rb") as fh:
        head = fh.read(limit)
    return head.split(b"\n", 1)[0].rstrip(b"\r").decode("ascii", errors="replace")
