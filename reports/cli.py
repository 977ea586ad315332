"""`fpls report [--cycle ID] [--home DIR] [--json]`: (re)build reports/<cycle>/ and print where it is."""

from __future__ import annotations

from typing import Annotated, Optional

import duckdb
import typer

from pipeline.clikit import Exit, HomeOption, JsonOption, emit_json, fail, info


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)


def report_command(
    home: HomeOption,
    cycle: Annotated[Optional[str], typer.Option("--cycle", help="Cycle id YYYYMMDD-NN (default: the latest).")] = None,
    json: JsonOption = False,
) -> None:
    """(Re)build the statistical reports of one cycle: index.html, <ST>.html, CSVs, ASAP letters."""
    from pipeline import store
    from reports.build import build_reports

    if not (home / store.DB_NAME).is_file():
        fail(f"{home / store.DB_NAME}: no store yet (run `fpls run` first)", Exit.NOINPUT)
    try:
        con = store.connect(home)
    except duckdb.IOException as exc:
        fail(f"cannot open the store (is a cycle running?): {exc}", Exit.TEMPFAIL)
    try:
        known = {r[0] for r in con.execute("SELECT cycle_id FROM cycles").fetchall()}
        if cycle is not None and cycle not in known:
            fail(f"no cycle {cycle} in the store", Exit.NOINPUT)
        if not known:
            fail("the store has no cycle yet (run `fpls run` first)", Exit.NOINPUT)
        result = build_reports(con, home, cycle)
    except OSError as exc:
        fail(f"cannot write reports: {exc.strerror or exc}", Exit.IOERR)
    finally:
        con.close()
    if json:
        emit_json(result.to_json())
        return
    if result.not_available:
        info("not available in this store: " + ", ".join(result.not_available))
    info(
        f"reports for cycle {result.cycle_id}: {len(result.pages)} pages, {result.csv_files} CSV files, "
        f"{result.letters} ASAP letters in {result.seconds} s"
    )
    typer.echo(result.index)
