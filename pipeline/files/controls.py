"""Controls: counts and sums a header or trailer declares vs what the file really holds.

Tallies are taken from every line classified as the record type (valid or not), because the
trailer describes what was sent; a mismatch rejects the whole file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from pipeline.files.layouts import Control, Layout

LINE, LINE_NO, RECORD_TYPE = "line", "line_no", "record_type"


def _slice(layout: Layout, record_id: str, name: str) -> pl.Expr:
    f = layout.record(record_id).field(name)
    return pl.col(LINE).str.slice(f.start - 1, f.length).str.strip_chars(" ")


def _tally(c: Control, keep: pl.Expr, text: Callable[[str], pl.Expr]) -> pl.Expr:
    """The control's count or sum over the rows `keep` selects; `text(name)` is a field's trimmed text."""
    for name, value in c.where:
        keep = keep & (text(name) == value)
    if c.sum_record:
        return text(c.sum_field).cast(pl.Int64, strict=False).filter(keep).sum()
    return keep.sum()


def _tally_expr(layout: Layout, c: Control) -> pl.Expr:
    """Over classified lines (columns line, record_type): fields are cut from the line's text."""
    record_id = c.sum_record or c.count[0]
    keep = pl.col(RECORD_TYPE) == c.sum_record if c.sum_record else pl.col(RECORD_TYPE).is_in(list(c.count))
    return _tally(c, keep, lambda name: _slice(layout, record_id, name))


def _typed_tally_expr(c: Control, record_id: str) -> pl.Expr:
    """Over one record type's rows already cut into typed fields (the compiled scanner's)."""
    if record_id != (c.sum_record or record_id) or (not c.sum_record and record_id not in c.count):
        return pl.lit(0, dtype=pl.Int64)
    every_row = pl.col(LINE_NO).is_not_null()  # a column, so that the sum counts rows
    return _tally(c, every_row, lambda name: pl.col(name).cast(pl.Utf8).str.strip_chars(" "))


def describe(c: Control) -> str:
    what = f"sum of {c.sum_record}.{c.sum_field}" if c.sum_record else f"count of {'/'.join(c.count)}"
    return what + "".join(f" where {k}={v}" for k, v in c.where)


@dataclass
class ControlTally:
    layout: Layout
    totals: list[int] = field(default_factory=list)

    def add(self, lines: pl.DataFrame) -> None:
        """Accumulate one batch of classified lines (columns line, record_type)."""
        if not self.layout.controls or lines.is_empty():
            return
        row = lines.select([_tally_expr(self.layout, c).alias(str(i)) for i, c in enumerate(self.layout.controls)]).row(
            0
        )
        self.totals = [a + int(b or 0) for a, b in zip(self.totals or [0] * len(row), row, strict=True)]

    def add_records(self, record_id: str, frame: pl.DataFrame) -> None:
        """Accumulate rows of one record type already cut into typed fields (the compiled scanner's)."""
        if not self.layout.controls or frame.is_empty():
            return
        row = frame.select(
            [_typed_tally_expr(c, record_id).alias(str(i)) for i, c in enumerate(self.layout.controls)]
        ).row(0)
        self.totals = [a + int(b or 0) for a, b in zip(self.totals or [0] * len(row), row, strict=True)]

    def mismatches(self, declared: dict[str, dict]) -> list[tuple[Control, object, int]]:
        """(control, declared, actual) for each control whose record was seen and disagrees.

        `declared` maps a control record id (a header such as the offset CTL, or a trailer) to its values."""
        totals = self.totals or [0] * len(self.layout.controls)
        return [
            (c, declared[c.record].get(c.field), actual)
            for c, actual in zip(self.layout.controls, totals, strict=True)
            if c.record in declared and declared[c.record].get(c.field) != actual
        ]
