"""`fpls` entry point: assembles the commands each package registers (see pipeline/clikit.py)."""

from __future__ import annotations

import os
from importlib import import_module

import duckdb
import typer

from pipeline.clikit import Exit
from pipeline.safeguards.masking import scrub_text
from pipeline.store.access import StoreBusy
from pipeline.store.encryption import StoreKeyError, StoreUnreadable, store_failure

app = typer.Typer(
    name="fpls",
    help="Batch file exchange and data matching for child-support enforcement.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals would print SSNs
    add_completion=False,
)

# Each module exposes register(app). A package that has not landed yet is simply absent.
COMMAND_MODULES = (
    "pipeline.cli.files_commands",
    "pipeline.cli.cycle_commands",
    "matchers.cli",
    "synth.cli",
    "pipeline.cli.enforcement_commands",
    "reports.cli",
    "pipeline.cli.safeguard_commands",
    "pipeline.cli.portal_commands",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app)


_register_all()


HOME_UMASK = 0o027  # folders 0750, files 0640: no access for "other" on anything fpls creates


def main() -> None:
    os.umask(HOME_UMASK)
    try:
        app()
    except StoreKeyError as exc:  # a configuration problem, not a crash: no traceback
        typer.echo(f"fpls: {exc}", err=True)
        raise SystemExit(int(Exit.CONFIG)) from None
    except StoreUnreadable as exc:
        typer.echo(f"fpls: {exc}", err=True)
        raise SystemExit(int(Exit.IOERR)) from None
    except StoreBusy as exc:  # another cycle, a key rotation or a reader holds the store: try again later
        typer.echo(f"fpls: busy: {exc}", err=True)
        raise SystemExit(int(Exit.TEMPFAIL)) from None
    except duckdb.Error as exc:  # a damaged block or a full disk met mid-work: a clear message, no traceback
        failure = store_failure(exc)
        if failure is None:
            raise
        typer.echo(f"fpls: {scrub_text(failure[0])}", err=True)
        raise SystemExit(failure[1]) from None


if __name__ == "__main__":
    main()
