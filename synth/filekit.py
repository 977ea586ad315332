"""What every generated file shares: identity views, deliberate invalid records, ordering, truth.

A file is a `FileOut`: its blocks are (record_id, frame) where the frame holds the layout's field
columns as text (dates CCYYMMDD, money integer text) plus bookkeeping columns:
`_k1, _k2` (file order), `_pid` (true person id or null), `_corr` (list of corruption tags) and
`_bad` (the record is expected to be rejected by layout validation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from pipeline.files.layouts import Field, Layout, Record, load_layout
from synth.noise import apply_noise

BOOK = ("_k1", "_k2", "_pid", "_corr", "_bad")


@dataclass
class FileOut:
    submitter: str
    layout: str
    name: str
    blocks: list[tuple[str, pl.DataFrame]] = field(default_factory=list)
    raw: bytes | None = None  # opaque document bytes (portal documents): written as is, one truth row

    @property
    def is_csv(self) -> bool:
        return load_layout(self.layout).format == "csv"


def ymd(d: date) -> str:
    return d.strftime("%Y%m%d")


def quarter_of(d: date) -> tuple[date, date, str]:
    """The last complete calendar quarter before d: (first day, last day, CCYYQ)."""
    q = (d.month - 1) // 3  # current quarter index 0..3
    year, q = (d.year - 1, 3) if q == 0 else (d.year, q - 1)
    start = date(year, 3 * q + 1, 1)
    end = date(year + (q == 3), (3 * q + 3) % 12 + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1), f"{year}{q + 1}"


def identity(
    ids: pl.DataFrame, persons: pl.DataFrame, profile: dict, gen: np.random.Generator, last_col: str = "last"
) -> pl.DataFrame:
    """ids (with person_id, any extra columns) + the person's reported identity under `profile`."""
    cols = ["person_id", "ssn", "other_ssn", "first", "middle", last_col, "birth_last", "dob", "sex"]
    view = ids.join(persons.select(cols), on="person_id", how="left", maintain_order="left")
    if last_col != "last":
        view = view.rename({last_col: "last"})
    return apply_noise(view, profile, gen, persons.get_column("ssn"))


def book(
    frame: pl.DataFrame,
    k1: pl.Expr | int,
    k2: pl.Expr | int | None = None,
    pid: str | None = "person_id",
    corr: str | None = "corruptions",
) -> pl.DataFrame:
    """Add the bookkeeping columns."""
    return frame.with_columns(
        (k1 if isinstance(k1, pl.Expr) else pl.lit(k1)).cast(pl.Int64).alias("_k1"),
        (pl.int_range(pl.len()) if k2 is None else (k2 if isinstance(k2, pl.Expr) else pl.lit(k2)))
        .cast(pl.Int64)
        .alias("_k2"),
        (pl.col(pid) if pid else pl.lit(None)).cast(pl.Int64).alias("_pid"),
        (pl.col(corr) if corr else pl.lit([], dtype=pl.List(pl.Utf8))).alias("_corr"),
        pl.lit(False).alias("_bad"),
    )


def expect_missing_required(frame: pl.DataFrame, record: Record) -> pl.DataFrame:
    """Records whose realistic noise blanked a required field (e.g. a W-4 without SSN) will be rejected."""
    required = [f.name for f in record.kept_fields if f.required and f.severity == "error" and f.name in frame.columns]
    if not required:
        return frame
    blank = pl.any_horizontal(
        [pl.col(c).is_null() | (pl.col(c).cast(pl.Utf8).str.strip_chars() == "") for c in required]
    )
    return frame.with_columns((pl.col("_bad") | blank).alias("_bad"))


def _invalid_kinds(record: Record, csv: bool) -> list[tuple[str, Field, str]]:
    """(tag, field, bad value) candidates derived from the layout: each breaks exactly one rule. A field of
    severity `warning` (the SSA master's DOB) is broken the same way but the record is kept: tag `unknown:...`."""
    out: list[tuple[str, Field, str]] = []
    for f in record.kept_fields:
        if not csv and f.start == record.match_start:
            continue
        kind = "invalid" if f.severity == "error" else "unknown"
        if f.type == "numeric" and f.pattern == r"^\d{9}$":
            out.append((f"{kind}:{f.name}:non_digit", f, "12345X789"))
        elif f.type == "date":
            out.append((f"{kind}:{f.name}:bad_date", f, "20261341"))
        elif f.type == "code" and f.required:
            out.append((f"{kind}:{f.name}:bad_code", f, "?"))
        elif f.type == "alpha" and f.required:
            out.append((f"{kind}:{f.name}:bad_characters", f, "O'BRIEN#"[: f.length or None]))
        if f.required and f.type in {"alpha", "alnum", "numeric", "amount", "date"}:
            out.append((f"{kind}:{f.name}:blank", f, ""))
    return out


def inject_invalid(
    frame: pl.DataFrame, record: Record, csv: bool, rate: float, gen: np.random.Generator
) -> pl.DataFrame:
    """Make a share of records break one layout rule on purpose; tag them and mark them `_bad`."""
    kinds = [k for k in _invalid_kinds(record, csv) if k[1].name in frame.columns]
    n = frame.height
    if not kinds or n == 0 or rate <= 0:
        return frame
    hit = gen.random(n) < rate
    which = gen.integers(0, len(kinds), n)
    tags = np.array([k[0] for k in kinds])
    frame = frame.with_columns(pl.Series("_hit", hit), pl.Series("_which", which))
    updates = []
    for i, (_tag, f, bad) in enumerate(kinds):
        cond = pl.col("_hit") & (pl.col("_which") == i)
        value = pl.lit(None, pl.Utf8) if bad == "" else pl.lit(bad)
        updates.append((f.name, cond, value))
    for name in sorted({u[0] for u in updates}):
        expr = pl.col(name).cast(pl.Utf8)
        for _fname, cond, value in reversed([u for u in updates if u[0] == name]):
            expr = pl.when(cond).then(value).otherwise(expr)
        frame = frame.with_columns(expr.alias(name))
    tag_col = pl.Series("_tag", tags[which]).to_frame().get_column("_tag")
    rejects = pl.Series("_rejects", np.array([k[1].severity == "error" for k in kinds])[which])
    return frame.with_columns(
        pl.when(pl.col("_hit"))
        .then(pl.col("_corr").list.concat(pl.concat_list(tag_col)))
        .otherwise(pl.col("_corr"))
        .alias("_corr"),
        (pl.col("_bad") | (pl.col("_hit") & rejects)).alias("_bad"),
    ).drop("_hit", "_which")


def text_columns(frame: pl.DataFrame, record: Record) -> pl.DataFrame:
    """Layout fields as text (dates CCYYMMDD); bookkeeping columns kept."""
    exprs = []
    for f in record.kept_fields:
        if f.name not in frame.columns:
            continue
        dtype = frame.schema[f.name]
        exprs.append(
            (pl.col(f.name).dt.strftime("%Y%m%d") if dtype == pl.Date else pl.col(f.name).cast(pl.Utf8)).alias(f.name)
        )
    return frame.with_columns(exprs)


def finish_block(
    frame: pl.DataFrame, layout: Layout, record_id: str, invalid_rate: float, gen: np.random.Generator
) -> tuple[str, pl.DataFrame]:
    """Text-format a data block, flag records noise made invalid, inject deliberate invalid records."""
    record = layout.record(record_id)
    frame = text_columns(frame, record)
    frame = expect_missing_required(frame, record)
    if record.role == "data":
        frame = inject_invalid(frame, record, layout.format == "csv", invalid_rate, gen)
    keep = [f.name for f in record.kept_fields if f.name in frame.columns]
    return record_id, frame.select(keep + list(BOOK))
