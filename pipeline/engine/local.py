"""The embedded engine: the kernel over the whole frame, in process (polars / DuckDB, no Java)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from pipeline.engine.kernel import Kernel


class LocalEngine:
    name = "local"

    def bound(self, scratch: Path, metrics: Path | None) -> LocalEngine:
        return self  # nothing leaves the process

    def close(self) -> None:
        pass

    def run(self, kernel: Kernel, frame: pl.DataFrame, sides: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        # One partition holding every key: exactly the whole-frame call the cycle made before the seam.
        return kernel.fn(frame, **sides)
