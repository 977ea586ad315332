"""The engine seam (DESIGN §10, issue 17): where a heavy stage's kernel runs. A kernel is a module-level
function from one partition's polars frame (all rows sharing a hash of the partition key) plus read-only
side frames to a result frame. `LocalEngine` calls it once over the whole frame, in process, as the
embedded cycle always did; `SparkEngine` ships the frame to Spark as Parquet, hash-partitions it on the
key and calls the same function per partition through `repartition(n, key).mapInArrow`, and brings the result
back as Parquet. One implementation of every rule: the engines differ only in how they call the kernel.

Sits below matchers (so `fpls link` can use it) and imports only polars / pyarrow, the safeguards'
fault hooks and, lazily, pyspark (the optional extra `.[spark]`).
"""

from __future__ import annotations

from pipeline.engine.kernel import DEFAULT_MASTER, ENGINES, MASTER_ENV, Engine, EngineUnavailable, Kernel
from pipeline.engine.local import LocalEngine


def engine_for(name: str, master: str | None = None) -> Engine:
    """The engine named on the command line; EngineUnavailable (exit 78) when Spark is asked for and
    pyspark or Java is missing."""
    if name == "local":
        return LocalEngine()
    if name != "spark":
        raise EngineUnavailable(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")
    from pipeline.engine.spark import SparkEngine, spark_master

    return SparkEngine(spark_master(master))


__all__ = [
    "DEFAULT_MASTER",
    "ENGINES",
    "MASTER_ENV",
    "Engine",
    "EngineUnavailable",
    "Kernel",
    "LocalEngine",
    "engine_for",
]
