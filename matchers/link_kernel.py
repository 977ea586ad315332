"""`fpls link`'s comparison step (every candidate pair's comparison levels, the linker's heaviest step) as an
engine kernel: candidate pairs are hash-partitioned on the left position `l`, and each partition is compared
against the whole prepared left and right frames (side frames). Blocking, training (EM over all compared
pairs) and the decisions stay whole-frame on the driver: they need every pair at once, and they are cheap next
to the comparison. A pair's levels depend on that pair alone, so the Spark engine's rows equal the embedded
engine's; they come back in candidate order (`_pair`), so training sees the same frame either way.
"""

from __future__ import annotations

from functools import partial

import polars as pl

from matchers.comparisons import compare
from pipeline.engine import Engine, Kernel, LocalEngine

ORDER = "_pair"


def compare_part(
    pairs: pl.DataFrame, left: pl.DataFrame, right: pl.DataFrame, *, names: tuple[str, ...]
) -> pl.DataFrame:
    """One partition of candidate pairs (l, r, rules, _pair) → the same rows with their comparison levels."""
    return compare(left, right, pairs, list(names))


def compare_pairs(
    engine: Engine | None, left: pl.DataFrame, right: pl.DataFrame, pairs: pl.DataFrame, names: list[str]
) -> pl.DataFrame:
    """`matchers.comparisons.compare(left, right, pairs, names)`, run by `engine` (in process by default)."""
    engine = engine or LocalEngine()
    if isinstance(engine, LocalEngine):
        return compare(left, right, pairs, names)  # the embedded path, unchanged: no order column to add
    numbered = pairs.with_row_index(ORDER)
    schema = compare(left, right, numbered.clear(), names).schema  # the kernel's output columns, from no rows
    kernel = Kernel(
        "link_compare", partial(compare_part, names=tuple(names)), key="l", out_schema=schema, order_by=ORDER
    )
    return engine.run(kernel, numbered, {"left": left, "right": right}).drop(ORDER)
