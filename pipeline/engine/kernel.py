"""What a kernel is and what every engine offers: `Engine.run(kernel, frame, sides)`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import polars as pl

ENGINES = ("local", "spark")
MASTER_ENV = "FPLS_SPARK_MASTER"  # Spark master or Spark Connect URL (sc://host:15002) when --spark-master is not given
DEFAULT_MASTER = "local[*]"


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot run here (pyspark not installed, no Java): a configuration error (78)."""


@dataclass(frozen=True)
class Kernel:
    """One heavy stage's rule set as a pure function over a partition.

    fn(part, **sides) -> frame: `part` holds every input row whose `key` hashes to one partition, `sides` are
    read-only frames every partition sees whole (the prepared SSA master, the misidentified list). The result
    must depend on `part` only row by row within a partition key (so hash-partitioning changes nothing) and
    come back in the order of the input's `order_by` column, which the Spark engine restores by sorting."""

    name: str
    fn: Callable[..., pl.DataFrame]
    key: str | None  # None: the rules compare rows across any key, so the input is one partition
    out_schema: Mapping[str, pl.DataType]
    order_by: str = "key"


class Engine(Protocol):
    name: str

    def bound(self, scratch: Path, metrics: Path | None) -> Engine:
        """This engine for one cycle: its scratch folder (Parquet exchanged with a cluster) and the JSON-lines
        file where each partition's measured cost goes."""
        ...

    def close(self) -> None: ...

    def run(self, kernel: Kernel, frame: pl.DataFrame, sides: Mapping[str, pl.DataFrame]) -> pl.DataFrame: ...
