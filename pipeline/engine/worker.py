"""The executor side of the Spark engine: what runs inside a Spark Python worker for one partition.

Side frames are read from the stage's Parquet once per worker process (Spark reuses its Python workers), not
once per partition; each partition's cost (rows in and out, seconds, the worker's peak memory) is appended to
a JSON-lines file, the measurements docs/SCALE.md's national estimate is built from. No SSN is written there.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Callable, Iterator, Mapping

import polars as pl
import pyarrow as pa

from pipeline.engine.kernel import Kernel

_SIDES: dict[str, tuple[tuple[int, int], pl.DataFrame]] = {}


def read_side(path: str) -> pl.DataFrame:
    """A side frame, cached per worker while its file is unchanged (a rerun rewrites it)."""
    st = os.stat(path)
    version = (st.st_size, st.st_mtime_ns)
    cached = _SIDES.get(path)
    if cached is None or cached[0] != version:
        _SIDES[path] = (version, pl.read_parquet(path))
    return _SIDES[path][1]


def partition_call(
    kernel: Kernel,
    in_schema: Mapping[str, pl.DataType],
    out_arrow: pa.Schema,
    side_paths: Mapping[str, str],
    metrics_path: str | None,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function `mapInArrow` calls with one hash partition's Arrow batches: the kernel over them as one
    polars frame."""

    def call(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        received = [batch for batch in batches if batch.num_rows]
        if not received:
            return  # a hash partition no key fell into (Spark may send it no batch at all)
        table = pa.Table.from_batches(received)  # the kernel sees its whole partition at once
        started = time.perf_counter()
        sides = {name: read_side(path) for name, path in side_paths.items()}
        loaded = time.perf_counter()
        part = pl.from_arrow(table).cast(dict(in_schema))
        out = kernel.fn(part, **sides).select(list(kernel.out_schema)).cast(dict(kernel.out_schema))
        arrow = out.to_arrow().cast(out_arrow)
        if metrics_path:
            _record(metrics_path, kernel.name, part.height, out.height, loaded - started, time.perf_counter() - loaded)
        yield from arrow.to_batches()

    return call


def _record(path: str, stage: str, rows_in: int, rows_out: int, sides_seconds: float, kernel_seconds: float) -> None:
    row = {
        "stage": stage,
        "pid": os.getpid(),
        "rows_in": rows_in,
        "rows_out": rows_out,
        "sides_seconds": round(sides_seconds, 4),
        "kernel_seconds": round(kernel_seconds, 4),
        "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    with open(path, "a") as fh:  # one short line per partition: O_APPEND keeps concurrent workers' lines whole
        fh.write(json.dumps(row, sort_keys=True) + "\n")
