"""The store: one DuckDB database `<home>/fpls.duckdb`, schema created and migrated by code.

Every table is keyed by the cycle and file that produced its rows, so a cycle can be resumed after a
crash: a file's rows and its ledger row commit together (one transaction per file); each later stage
commits its output together with a `cycle_stages` marker. No column holds wall-clock time, so two runs
with the same inbound and `--as-of` end in the same store.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipeline.store.access import StoreBusy, snapshot_path
from pipeline.store.encryption import configured_key, open_encrypted, open_plain
from pipeline.store.migrations import MIGRATIONS

if TYPE_CHECKING:
    import polars as pl
# polars (and pyarrow with it) is imported by the functions that build or take frames, not here: an operator's
# query opens the store and reads a few rows without either.

DB_NAME = "fpls.duckdb"
SCHEMA_VERSION = len(MIGRATIONS)


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    key = configured_key()
    return open_encrypted(path, key, read_only) if key else open_plain(path, read_only)


def connect(home: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and migrate) the store; encrypted at rest when a key is configured (pipeline/store/encryption.py).
    Another process holding it raises StoreBusy."""
    con = _open(Path(home) / DB_NAME, read_only)
    if not read_only:
        migrate(con)
    return con


def connect_reader(home: Path) -> tuple[duckdb.DuckDBPyConnection, str | None]:
    """A read-only connection for an operator's query: the live store, or, while a cycle (or another writer)
    holds it, the snapshot the last completed cycle published (pipeline/store/access.py). Returns the
    connection and None, or the snapshot's connection and the id of the cycle it holds."""
    try:
        return connect(home, read_only=True), None
    except StoreBusy:
        snapshot = snapshot_path(home)
        if not snapshot.exists():
            raise StoreBusy(
                "the store is in use (a cycle is running) and no completed cycle has published a snapshot yet; "
                "try again when the cycle is done"
            ) from None
    con = _open(snapshot, read_only=True)
    row = con.execute("SELECT max(cycle_id) FROM cycles WHERE status = 'done'").fetchone()
    return con, (row[0] if row and row[0] else "none")


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        con.execute("CREATE TABLE schema_version (version INTEGER)")
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the schema to SCHEMA_VERSION, one transaction per migration step."""
    current = schema_version(con)
    for version in range(current, SCHEMA_VERSION):
        with transaction(con):
            for ddl in MIGRATIONS[version]:
                con.execute(ddl)
            con.execute("INSERT INTO schema_version VALUES (?)", [version + 1])
    return SCHEMA_VERSION


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Append a polars frame through Arrow; columns matched by name, absent ones left null."""
    if frame.is_empty():
        return 0
    wanted = [c for c in table_columns(con, table) if c in frame.columns]
    arrow = frame.select(wanted).to_arrow()  # noqa: F841 - referenced by name in the SQL below
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM arrow")
    return frame.height


class Appender:
    """Appends batches to one table through DuckDB's Arrow scan, for a load that streams many batches.

    The table's columns are read once (not per batch); columns the same for every row of a batch (cycle,
    file, submitter, ...) and columns computed from others (`expressions`, SQL over the batch's columns)
    are added by DuckDB in the INSERT itself, so the batch is never copied to add them. Frame columns the
    table lacks are left out; table columns given nowhere stay null."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str):
        self.con, self.table = con, table
        self.columns = table_columns(con, table)
        self._statements: dict[tuple, tuple[str, list[str]]] = {}

    def _statement(self, names: tuple[str, ...], constants: tuple[str, ...], expressions: tuple) -> tuple[str, list]:
        key = (names, constants, expressions)
        if key not in self._statements:
            given = dict.fromkeys(names, None) | dict.fromkeys(constants, "?") | dict(expressions)
            targets = [c for c in self.columns if c in given]
            values = [f'"{c}"' if given[c] is None else given[c] for c in targets]
            sql = f"INSERT INTO {self.table} ({', '.join(targets)}) SELECT {', '.join(values)} FROM _fpls_batch"
            self._statements[key] = (sql, [c for c in targets if given[c] == "?"])
        return self._statements[key]

    def append(self, frame: pl.DataFrame, constants: dict | None = None, expressions: dict | None = None) -> int:
        """Append `frame` (polars, or an Arrow table) with `constants` (column → one value for every row) and
        `expressions` (column → SQL over the frame's columns). Returns the rows appended."""
        import polars as pl

        if not len(frame):
            return 0
        constants, expressions = constants or {}, expressions or {}
        names = tuple(frame.columns if isinstance(frame, pl.DataFrame) else frame.column_names)
        sql, params = self._statement(names, tuple(constants), tuple(expressions.items()))
        batch = frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame
        self.con.register("_fpls_batch", batch)
        try:
            self.con.execute(sql, [constants[c] for c in params])
        finally:
            self.con.unregister("_fpls_batch")
        return len(frame)


@contextmanager
def bulk_appends(con: duckdb.DuckDBPyConnection):
    """Settings for a run of many small appending transactions (the load stage: one per file), then one
    checkpoint. DuckDB runs on one thread: for batches of this size its task scheduling costs more CPU than
    the parallelism gives back (measured on the 2-core machine; BENCHMARKS.md, load stage). And it writes
    the WAL without checkpointing every 16 MiB: each of those checkpoints rewrote the last row group of
    every table appended to (and the ndnh key index), so a load paid for its tables many times over. Every
    commit is durable in the WAL as before; the checkpoint at the end folds it into the database file."""
    threads, threshold = con.execute(
        "SELECT current_setting('threads'), current_setting('checkpoint_threshold')"
    ).fetchone()
    con.execute("SET threads = 1")
    con.execute("SET checkpoint_threshold = '1TB'")
    try:
        yield con
        con.execute("CHECKPOINT")
    finally:
        con.execute(f"SET threads = {int(threads)}")
        con.execute(f"SET checkpoint_threshold = '{threshold}'")


def stage_done(con: duckdb.DuckDBPyConnection, cycle_id: str, stage: str) -> bool:
    return (
        con.execute("SELECT count(*) FROM cycle_stages WHERE cycle_id = ? AND stage = ?", [cycle_id, stage]).fetchone()[
            0
        ]
        > 0
    )


def mark_stage(con: duckdb.DuckDBPyConnection, cycle_id: str, stage: str) -> None:
    con.execute("INSERT INTO cycle_stages VALUES (?, ?)", [cycle_id, stage])


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """A query result as a polars frame (through Arrow)."""
    import polars as pl

    with warnings.catch_warnings():  # DB-API arrow output copies once; fine for our sizes
        warnings.simplefilter("ignore", UserWarning)
        return pl.from_arrow(con.execute(sql, params).to_arrow_table())


def dump_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """Every base table sorted by all its columns (tests compare stores with it)."""
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
    ]
    out = {}
    for name in names:
        df = frame(con, f"SELECT * FROM {name}")
        out[name] = df.sort(df.columns, nulls_last=True) if df.width else df
    return out
