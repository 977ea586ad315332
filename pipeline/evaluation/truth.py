"""The truth file of a generated home: one row per generated record with its file name, 1-based physical
line and true person (null for records of nobody); records are tied to the store by (file name, line)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipeline.store import frame


def _pick(frame: pl.DataFrame, names: tuple[str, ...]) -> str:
    for n in names:
        if n in frame.columns:
            return n
    raise KeyError(f"truth lacks one of the columns {names}; it has {frame.columns}")


def read_truth(path: Path) -> pl.DataFrame:
    raw = pl.read_parquet(path)
    f, ln, pid = (
        _pick(raw, ("file", "file_name")),
        _pick(raw, ("line", "line_no")),
        _pick(raw, ("person_id", "pid", "_pid")),
    )
    return raw.select(
        pl.col(f).cast(pl.Utf8).str.split("/").list.last().alias("file_name"),
        pl.col(ln).cast(pl.Int64).alias("line_no"),
        pl.col(pid).cast(pl.Int64).alias("person_id"),
    )


def with_person(con: duckdb.DuckDBPyConnection, sql: str, params: list, truth: pl.DataFrame) -> pl.DataFrame:
    rows = frame(con, sql, params)
    return rows.join(truth, on=["file_name", "line_no"], how="left")
