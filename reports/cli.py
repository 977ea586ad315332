"""`fpls report`: (re)build reports and print where they are.

fpls report [--cycle ID]                 the statistical reports of one cycle (reports/<cycle>/)
fpls report --month 2026-11              monthly NDNH and MSER reports (reports/2026-11/)
fpls report --half 2026H2                semi-annual State Profile (reports/2026H2/)
fpls report --case ID --state ST [--cycle ID]   one case's printable financial situation page
"""

from __future__ import annotations

from typing import Annotated, Optional

import duckdb
import typer

from pipeline.clikit import Exit, HomeOption, JsonOption, emit_json, fail, info


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)


def _periodic(con, home, month: str | None, half: str | None, json: bool) -> None:
    from reports.periodic import build_period_reports, parse_half, parse_month

    try:
        period = parse_month(month) if month else parse_half(half or "")
    except ValueError as exc:
        fail(str(exc), Exit.USAGE)
    try:
        result = build_period_reports(con, home, period)
    except LookupError as exc:
        fail(str(exc), Exit.NOINPUT)
    if json:
        emit_json(result.to_json())
        return
    if result.not_available:
        info("not available in this store: " + ", ".join(result.not_available))
    timings = ", ".join(f"{k} {v} s" for k, v in result.seconds.items())
    info(
        f"reports for {result.period} ({len(result.cycles)} cycles): {len(result.pages)} pages, {result.csv_files} CSV files; {timings}"
    )
    typer.echo(result.index)


def _case(con, home, cycle: str, state: str, case_id: str, json: bool) -> None:
    from reports.casepage import CaseNotFound, build_case_page

    try:
        page = build_case_page(con, home, cycle, state.upper(), case_id)
    except CaseNotFound as exc:
        fail(str(exc), Exit.NOINPUT)
    if json:
        emit_json({"path": str(page.path), "state": page.state, "case_id": page.case_id, "member_id": page.member_id})
        return
    typer.echo(page.path)


def report_command(
    home: HomeOption,
    cycle: Annotated[Optional[str], typer.Option("--cycle", help="Cycle id YYYYMMDD-NN (default: the latest).")] = None,
    month: Annotated[Optional[str], typer.Option("--month", help="Monthly NDNH and MSER reports for YYYY-MM.")] = None,
    half: Annotated[
        Optional[str], typer.Option("--half", help="Semi-annual State Profile for YYYYH1 / YYYYH2.")
    ] = None,
    case: Annotated[
        Optional[str], typer.Option("--case", help="One case's financial situation page (with --state).")
    ] = None,
    state: Annotated[
        Optional[str], typer.Option("--state", help="USPS code of the case's state (with --case).")
    ] = None,
    json: JsonOption = False,
) -> None:
    """(Re)build reports: a cycle's statistical reports, a month's or half-year's reports, or a case page."""
    from pipeline import store
    from reports.build import build_reports

    if sum(x is not None for x in (month, half, case)) > 1:
        fail("give one of --month, --half or --case", Exit.USAGE)
    if (case is None) != (state is None):
        fail("--case and --state go together", Exit.USAGE)
    if (month or half) and cycle:
        fail("--cycle does not go with --month / --half (the period chooses its cycles)", Exit.USAGE)
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
        if month or half:
            return _periodic(con, home, month, half, json)
        if case:
            return _case(con, home, cycle or max(known), state, case, json)
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
