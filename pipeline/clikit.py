"""Shared pieces of every `fpls` command: exit codes, --home, JSON output, clear failures.

Each package registers its commands with `register(app)` in its own `cli.py`; `pipeline/cli/app.py`
only assembles them, so the CLI stays thin.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer

from pipeline.safeguards.masking import printable, scrub_text

SCHEMA_VERSION = 1
# Set when a query answers from the last completed cycle's snapshot (a cycle holds the live store): every
# answer says so, on stderr and in its JSON.
ANSWERED_FROM: dict[str, Any] = {}


class Exit(IntEnum):
    """sysexits-style exit statuses (DESIGN §4)."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    DATAERR = 65
    NOINPUT = 66
    IOERR = 74
    TEMPFAIL = 75
    NOPERM = 77
    CONFIG = 78


def default_home() -> Path:
    return Path(os.environ.get("FPLS_HOME", "var"))


HomeOption = Annotated[
    Path,
    typer.Option("--home", help="fpls home directory (default $FPLS_HOME, else ./var).", default_factory=default_home),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one machine-readable JSON object.")]


def emit_json(payload: dict[str, Any]) -> None:
    """Write one JSON object to stdout with the schema version first."""
    labelled = {"answered_from": ANSWERED_FROM} if ANSWERED_FROM else {}
    sys.stdout.write(
        json.dumps({"schema_version": SCHEMA_VERSION, **labelled, **payload}, default=str, indent=2) + "\n"
    )


def fail(message: str, code: Exit) -> NoReturn:
    """Print a clear, SSN-free message to stderr and exit with a sysexits status."""
    typer.echo(f"fpls: {printable(scrub_text(message))}", err=True)
    raise typer.Exit(int(code))


def info(message: str) -> None:
    """Log to stderr (data goes to stdout)."""
    typer.echo(printable(scrub_text(message)), err=True)


def emit_query(rows: list[dict], json: bool, key: str, nothing: str, line: Callable[[dict], str]) -> None:
    """A query's answer (one dict per row): `{key: rows}` as JSON, or one line per row; no row at all exits 66
    after `nothing`."""
    if json:
        emit_json({key: rows})
        return
    if not rows:
        info(nothing)
        raise typer.Exit(int(Exit.NOINPUT))
    for r in rows:
        typer.echo(line(r))


def query_group(app: typer.Typer) -> typer.Typer:
    """The `fpls query` group on `app`, made by the first package that adds a query to it (`query person`,
    `query employer`, `query case`)."""
    for group in app.registered_groups:
        if group.name == "query" and group.typer_instance is not None:
            return group.typer_instance
    group = typer.Typer(help="FCR queries.", no_args_is_help=True)
    app.add_typer(group, name="query")
    return group


def open_store(home: Path, write: bool = False):
    """The store for a command: exit 66 when there is none yet, 75 when another process holds it. A reader
    (write=False) that finds a cycle holding the store answers from the last completed cycle's snapshot,
    and says so (stderr, and `answered_from` in its JSON)."""
    from pipeline import store  # heavy: only commands that touch the store pay for it

    if not (home / store.DB_NAME).exists():
        fail(f"{home / store.DB_NAME}: no store; run `fpls run` first", Exit.NOINPUT)
    try:
        if write:
            return store.connect(home)
        con, snapshot_cycle = store.connect_reader(home)
    except store.StoreBusy as exc:
        fail(f"store busy: {exc}", Exit.TEMPFAIL)
    if snapshot_cycle is not None:
        ANSWERED_FROM.update({"snapshot": True, "cycle": snapshot_cycle})
        info(f"a cycle is running: answering from the last completed cycle {snapshot_cycle} (snapshot)")
    return con


def read_store(home: Path, read: Callable):
    """read(connection) on the store opened read-only, closed again whatever happens."""
    con = open_store(home)
    try:
        return read(con)
    finally:
        con.close()


def progress_enabled() -> bool:
    return sys.stderr.isatty()


EngineOption = Annotated[
    str,
    typer.Option(
        "--engine",
        help="Where the matching kernels run: local (embedded, the default) or spark (needs the .[spark] extra and Java).",
    ),
]
SparkMasterOption = Annotated[
    Optional[str],
    typer.Option(
        "--spark-master",
        help="Spark master or Spark Connect URL (sc://host:15002) for --engine spark "
        "(default $FPLS_SPARK_MASTER, else local[*]).",
    ),
]


def engine_or_exit(name: str, master: str | None):
    """The engine asked for (`fpls run` / `fpls link --engine`), or exit 78 (configuration) saying what is
    missing. Imported here, not at the top: pyspark loads only when Spark is asked for."""
    from pipeline.engine import EngineUnavailable, engine_for

    try:
        return engine_for(name, master)
    except EngineUnavailable as exc:
        fail(f"configuration: {exc}", Exit.CONFIG)
