"""Shared pieces of every `fpls` command: exit codes, --home, JSON output, clear failures.

Each package registers its commands with `register(app)` in its own `cli.py`; `pipeline/cli.py`
only assembles them, so the CLI stays thin.
"""
from __future__ import annotations

import json
import os
import sys
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from pipeline.pii import scrub_text

SCHEMA_VERSION = 1


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
    sys.stdout.write(json.dumps({"schema_version": SCHEMA_VERSION, **payload}, default=str, indent=2) + "\n")


def fail(message: str, code: Exit) -> NoReturn:
    """Print a clear, SSN-free message to stderr and exit with a sysexits status."""
    typer.echo(f"fpls: {scrub_text(message)}", err=True)
    raise typer.Exit(int(code))


def info(message: str) -> None:
    """Log to stderr (data goes to stdout)."""
    typer.echo(scrub_text(message), err=True)


def progress_enabled() -> bool:
    return sys.stderr.isatty()
