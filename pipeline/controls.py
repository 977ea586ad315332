"""Controls: counts and sums a header or trailer declares vs what the file really holds.

Tallies are taken from every line classified as the record type (valid or not), because the
trailer describes what was sent; a mismatch rejects the whole file.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from pipeline.layouts import Control, Layout

LINE, RECORD_TYPE = "line", "record_type"


def _slice(layout: Layout, record_id: str, name: str) -> pl.Expr:
    f = layout.record(record_id).field(name)
    return pl.col(LINE).str.slice(f.start - 1, f.length).str.strip_chars(" ")


def _tally_expr(layout: Layout, c: Control) -> pl.Expr:
    record_id = c.sum_record or c.count[0]
    keep = pl.col(RECORD_TYPE) == c.sum_record if c.sum_record else pl.col(RECORD_TYPE).is_in(list(c.count))
    for name, value in c.where:
        keep = keep & (_slice(layout, record_id, name) == value)
    if c.sum_record:
        return _slice(layout, record_id, c.sum_field).cast(pl.Int64, strict=False).filter(keep).sum()
    return keep.sum()


def describe(c: Control) -> str:
    what = f"sum of {c.sum_record}.{c.sum_field}" if c.sum_record else f"count of {'/'.join(c.count)}"
    return what + "".join(f" where {k}={v}" for k, v in c.where)


@dataclass
class ControlTally:
    layout: Layout
    totals: list[int] = field(default_factory=list)

    def add(self, lines: pl.DataFrame) -> None:
        """Accumulate one batch of classified lines (columns line, record_type)."""
        if not self.layout.controls:
            return
        row = lines.select([_tally_expr(self.layout, c).alias(str(i)) for i, c in enumerate(self.layout.controls)]).row(0)
        self.totals = [a + int(b or 0) for a, b in zip(self.totals or [0] * len(row), row, strict=True)]

    def mismatches(self, declared: dict[str, dict]) -> list[tuple[Control, object, int]]:
        """(control, declared, actual) for each control whose record was seen and disagrees.

        `declared` maps a control record id (a header such as the offset CTL, or a trailer) to its values."""
        totals = self.totals or [0] * len(self.layout.controls)
        return [(c, declared[c.record].get(c.field), actual)
                for c, actual in zip(self.layout.controls, totals, strict=True)
                if c.record in declared and declared[c.record].get(c.field) != actual]
