"""The Spark engine (`fpls run --engine spark`): a kernel's input and side frames go to Parquet in the
cycle's scratch folder, Spark hash-partitions the input on the kernel's key and calls the kernel per
partition (`repartition(n, key).mapInArrow`), and the result comes back as Parquet, sorted into the order the
embedded engine returns, so the store and everything after matching cannot tell the engines apart.

Restartable: the exported inputs are sealed with a marker holding their shape; a cycle killed while Spark
works reruns the stage from those Parquet files (the store did not change: the stage never committed).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from pipeline.engine.kernel import DEFAULT_MASTER, MASTER_ENV, EngineUnavailable, Kernel
from pipeline.engine.worker import partition_call
from pipeline.safeguards.faults import checkpoint

ROWS_PER_PARTITION = int(os.environ.get("FPLS_SPARK_PARTITION_ROWS", "250000"))
DRIVER_MEMORY = os.environ.get("FPLS_SPARK_DRIVER_MEMORY", "2g")
SEALED = "_inputs.json"


def spark_master(option: str | None) -> str:
    return option or os.environ.get(MASTER_ENV) or DEFAULT_MASTER


def require_spark(master: str) -> None:
    try:
        import pandas  # noqa: F401 - pyspark's Arrow UDFs import it
        import pyspark  # noqa: F401
    except ImportError:
        raise EngineUnavailable(
            "the Spark engine needs pyspark 4: pip install -e '.[spark]' (or run with --engine local)"
        ) from None
    if not master.startswith("sc://") and not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise EngineUnavailable("the Spark engine needs Java 17 or later on PATH (or JAVA_HOME) for a local master")


class _Session:
    """One SparkSession per process, started on first use (the JVM takes tens of seconds on a busy machine)
    and shared by the cycle's stages."""

    def __init__(self, master: str):
        self.master = master
        self.spark = None
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            return self._start()

    def _start(self):
        if self.spark is None:
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers import the same fpls and polars
            from pyspark.sql import SparkSession

            builder = SparkSession.builder.appName("fpls")
            if self.master.startswith("sc://"):
                builder = builder.remote(self.master)
            else:
                builder = (
                    builder.master(self.master)
                    .config("spark.driver.memory", DRIVER_MEMORY)
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")  # stderr is the log, not a terminal display
                    .config("spark.log.level", "ERROR")
                    # each kernel partition its own task: adaptive execution would merge small ones into one
                    .config("spark.sql.adaptive.coalescePartitions.enabled", "false")
                )
            self.spark = builder.getOrCreate()
        return self.spark

    def stop(self) -> None:
        with self._lock:
            if self.spark is not None:
                self.spark.stop()
                self.spark = None


class SparkEngine:
    name = "spark"

    def __init__(self, master: str, scratch: Path | None = None, metrics: Path | None = None, session=None):
        require_spark(master)
        self.master = master
        self.scratch = scratch
        self.metrics = metrics
        self._session = session or _Session(master)

    def bound(self, scratch: Path, metrics: Path | None) -> SparkEngine:
        return SparkEngine(self.master, scratch, metrics, self._session)

    def close(self) -> None:
        self._session.stop()

    def run(self, kernel: Kernel, frame: pl.DataFrame, sides: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        if frame.is_empty():
            return kernel.fn(frame, **sides)  # nothing to distribute; the kernel's own empty answer
        stage = (self.scratch or Path(os.environ.get("FPLS_SPARK_SCRATCH", "spark-scratch"))) / kernel.name
        inputs = export_inputs(stage, frame, sides)
        checkpoint("spark")  # the restart test kills the cycle here, with the inputs sealed and Spark not done
        result_dir = stage / "result"
        self._partitioned_call(kernel, frame.schema, inputs, sorted(sides), result_dir)
        result = pl.scan_parquet(str(result_dir / "*.parquet")).collect().cast(dict(kernel.out_schema))
        shutil.rmtree(stage)  # it holds SSNs; the caller commits the result with the stage marker
        return result.sort(kernel.order_by)

    def _partitioned_call(self, kernel: Kernel, in_schema, inputs: Path, side_names, result_dir: Path) -> None:
        from pyspark.sql import functions as F

        spark = self._session.get()
        df = spark.read.parquet(str(inputs / "part.parquet"))
        n = partitions(json.loads((inputs / SEALED).read_text())["rows"], spark)
        out_type = spark_schema(kernel.out_schema)
        call = partition_call(
            kernel,
            dict(in_schema),
            arrow_schema(out_type),
            {name: str(inputs / f"side_{name}.parquet") for name in side_names},
            str(self.metrics) if self.metrics else None,
        )
        # exactly n hash partitions of the key, one task each: every row of a key in the same kernel call
        parts = df.repartition(1) if kernel.key is None else df.repartition(n, F.col(kernel.key))
        parts.mapInArrow(call, out_type).write.mode("overwrite").parquet(str(result_dir))


def partitions(rows: int, spark) -> int:
    """Enough partitions to keep every core busy, and no partition much over ROWS_PER_PARTITION rows."""
    return max(spark.sparkContext.defaultParallelism, math.ceil(rows / ROWS_PER_PARTITION))


def export_inputs(stage: Path, frame: pl.DataFrame, sides: Mapping[str, pl.DataFrame]) -> Path:
    """<stage>/input/: the partitioned frame and each side frame as Parquet, sealed by a marker last. A sealed
    folder of the same shape is reused (a rerun after a kill); a half-written one is written again."""
    inputs = stage / "input"
    shape = {"rows": frame.height, "columns": frame.columns, "sides": {k: v.height for k, v in sorted(sides.items())}}
    marker = inputs / SEALED
    if marker.is_file() and json.loads(marker.read_text()) == shape:
        return inputs
    shutil.rmtree(stage, ignore_errors=True)
    tmp = stage / "input.tmp"
    tmp.mkdir(parents=True, mode=0o700)
    frame.write_parquet(tmp / "part.parquet")
    for name, side in sides.items():
        side.write_parquet(tmp / f"side_{name}.parquet")
    (tmp / SEALED).write_text(json.dumps(shape))
    tmp.rename(inputs)
    return inputs


_SPARK_TYPES = {  # Spark has no unsigned integers: positions (UInt32) travel as LongType, cast back on return
    pl.Int64: "LongType",
    pl.UInt32: "LongType",
    pl.UInt64: "LongType",
    pl.Int32: "IntegerType",
    pl.UInt16: "IntegerType",
    pl.Int16: "ShortType",
    pl.UInt8: "ShortType",
    pl.Int8: "ByteType",
    pl.Float32: "FloatType",
    pl.Utf8: "StringType",
    pl.Date: "DateType",
    pl.Boolean: "BooleanType",
    pl.Float64: "DoubleType",
}


def spark_schema(schema: Mapping[str, pl.DataType]):
    """The kernel's polars output schema as a Spark StructType (the types a kernel may return)."""
    from pyspark.sql import types as T

    def spark_type(dtype: pl.DataType):
        if isinstance(dtype, pl.List):
            return T.ArrayType(spark_type(dtype.inner))
        return getattr(T, _SPARK_TYPES[dtype.base_type()])()

    return T.StructType([T.StructField(name, spark_type(dtype)) for name, dtype in schema.items()])


def arrow_schema(struct):
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(struct)
