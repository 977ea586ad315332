"""`fpls` entry point: assembles the commands each package registers (see pipeline/clikit.py).

The command modules are imported when a command of theirs is asked for, not at start (click's "lazy group"
pattern): `fpls query person` imports the three modules that add a query, and none of polars, pyarrow,
pandera or the matchers that other commands need. Listing the commands (`fpls --help`, `fpls` alone, a
mistyped name) imports them all, and the app is then the one every module's `register(app)` builds, in
COMMAND_MODULES order, as if it had been built eagerly.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

import duckdb
import typer
import typer.main
from typer.core import TyperGroup

from pipeline.clikit import Exit
from pipeline.safeguards.masking import scrub_text
from pipeline.store.access import StoreBusy
from pipeline.store.encryption import StoreKeyError, StoreUnreadable, store_failure

# Each module exposes register(app), which adds these top-level commands and groups (in this order: a test
# holds the two together). `query` gathers commands from three of them. A package that has not landed yet
# is simply absent.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "pipeline.cli.files_commands": ("layouts", "validate", "read"),
    "pipeline.cli.cycle_commands": ("run", "query", "eval"),
    "matchers.cli": ("link", "verify-ssn"),
    "synth.cli": ("generate",),
    "pipeline.cli.enforcement_commands": ("passport", "misidentified", "employers", "query"),
    "reports.cli": ("report",),
    "pipeline.cli.safeguard_commands": ("audit", "store", "purge"),
    "pipeline.cli.portal_commands": ("irg", "ede", "dra", "submissions", "query"),
}


def build(modules) -> dict[str, Any]:
    """The click commands that `modules` register, registered in COMMAND_MODULES order on a new typer app."""
    registry = typer.Typer()
    for name in COMMAND_MODULES:
        if name not in modules:
            continue
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(registry)
    return dict(typer.main.get_group(registry).commands)


class LazyCommands(TyperGroup):
    """The top-level group: a command's modules are imported the first time it is looked up."""

    def _load(self, modules) -> None:
        loaded = getattr(self, "_loaded", set())
        if not set(modules) <= loaded:
            self._loaded = loaded | set(modules)
            self.commands = build(self._loaded)

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            owners = [name for name, commands in COMMAND_MODULES.items() if cmd_name in commands]
            self._load(owners or COMMAND_MODULES)  # an unknown name: all of them, for "Did you mean ...?"
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: typer.Context) -> list[str]:
        self._load(COMMAND_MODULES)
        return super().list_commands(ctx)


app = typer.Typer(
    name="fpls",
    help="Batch file exchange and data matching for child-support enforcement.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals would print SSNs
    add_completion=False,
    cls=LazyCommands,
)


@app.callback()
def _lazy() -> None:
    # typer builds a group only for an app with a callback or registered commands; this one has no commands
    # of its own until LazyCommands looks them up.
    pass


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
