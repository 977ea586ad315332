"""CLI of the portal exchanges: `fpls query case`, `fpls irg show|export`, `fpls ede list`,
`fpls dra list|get`, `fpls submissions list|show|status`.

`--as ST` names the state asking: a state sees only its own submissions and the documents addressed to it
(exit 77 otherwise). Without --as the caller is the OCSE operator. Writes take the cycle lock (exit 75).
"""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.cli.enforcement_commands import _locked
from pipeline.clikit import (
    Exit,
    HomeOption,
    JsonOption,
    emit_json,
    fail,
    info,
    query_group,
    read_store,
)

StateOpt = Annotated[str, typer.Option("--state", help="State USPS code.")]
AsOpt = Annotated[Optional[str], typer.Option("--as", help="The state asking (default: OCSE operator).")]
irg_app = typer.Typer(help="Intergovernmental Reference Guide profiles.", no_args_is_help=True)
ede_app = typer.Typer(help="Electronic Document Exchange.", no_args_is_help=True)
dra_app = typer.Typer(help="Audit Data Exchange (Data Reliability Audit files).", no_args_is_help=True)
sub_app = typer.Typer(help="State Plan, Self-Assessment, A&V and other portal submissions.", no_args_is_help=True)


def _own(state: str, viewer: str | None) -> str:
    state = state.upper()
    if viewer and viewer.upper() != state:
        fail(f"{viewer.upper()} may not see {state}'s portal data", Exit.NOPERM)
    return state


def _print(rows, json: bool, key: str) -> None:
    if json:
        emit_json({key: rows.to_dicts()})
        return
    for r in rows.iter_rows(named=True):
        typer.echo(" | ".join("" if v is None else str(v) for v in r.values()))


def query_case(
    home: HomeOption,
    state: StateOpt,
    case: Annotated[str, typer.Option("--case", help="Case ID.")],
    as_state: AsOpt = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of")] = None,
    json: JsonOption = False,
) -> None:
    """QUICK: participants, status, financial summary and worker contact of a case (logged as a disclosure)."""
    from pipeline.portal.quick import query_case as run_query

    day = date.fromisoformat(as_of) if as_of else date.today()

    def action(con):
        return run_query(con, state.upper(), case, as_state.upper() if as_state else None, day, getpass.getuser())

    out = _locked(home, action)
    if json:
        emit_json(out)
    elif out["found"]:
        c, f = out["case"], out["financial"]
        typer.echo(
            f"case {c['state']}/{c['case_id']} type {c['case_type']} order {c['order_indicator']} status {c['status']}"
        )
        for p in out["participants"]:
            name = "(withheld: family violence)" if p["data_withheld"] else f"{p['first_name']} {p['last_name']}"
            typer.echo(
                f"  {p['participant_type']} {p['member_id']} {name} ssn verified {p['ssn_verified']} deceased {p['deceased']}"
            )
        typer.echo(f"  financial: {_financial_line(f)}")
        typer.echo(f"  worker contact: {out['worker_contact'] or 'no IRG contact on file'}")
    if not out["found"]:
        info(f"case {state.upper()}/{case} not found (query {out['query']} logged)")
        raise typer.Exit(int(Exit.NOINPUT))


def _dollars(cents) -> str:
    return "-" if cents is None else f"${cents / 100:,.2f}"


def _financial_line(f: dict) -> str:
    """The QUICK financial summary as an operator reads it (amounts in dollars), not a Python dict."""
    if not f.get("available"):
        return "no case financial summary submitted"
    return (
        f"as of {f['as_of_date']} ({f['case_type']}): monthly obligation {_dollars(f['monthly_obligation_cents'])}, "
        f"arrears {_dollars(f['arrears_cents'])}, payments received {_dollars(f['payments_received_cents'])} "
        f"in {len(f['payments'])} payment(s)"
    )


@irg_app.command("show")
def irg_show(
    home: HomeOption,
    state: Annotated[str, typer.Argument(help="Jurisdiction.")],
    version: Annotated[Optional[int], typer.Option("--version")] = None,
    json: JsonOption = False,
) -> None:
    """A jurisdiction's IRG profile (default: latest version) and its version list."""
    from pipeline.portal import irg

    rows, versions = read_store(
        home, lambda con: (irg.profile(con, state.upper(), version), irg.versions(con, state.upper()))
    )
    if rows.is_empty():
        fail(f"no IRG profile for {state.upper()}" + (f" version {version}" if version else ""), Exit.NOINPUT)
    if json:
        emit_json({"profile": rows.to_dicts(), "versions": versions.to_dicts()})
        return
    typer.echo(f"{state.upper()} IRG profile version {rows['version'][0]} of {versions.height}")
    _print(rows.drop("jurisdiction", "version", "cycle_id"), False, "profile")


@irg_app.command("export")
def irg_export(
    home: HomeOption,
    state: Annotated[str, typer.Argument()],
    out: Annotated[Path, typer.Option("--out")],
    version: Annotated[Optional[int], typer.Option("--version")] = None,
) -> None:
    """Download a profile as CSV (the inbound profile columns)."""
    from pipeline.portal import irg

    n = read_store(home, lambda con: irg.export_csv(con, state.upper(), out, version))
    if not n:
        fail(f"no IRG profile for {state.upper()}", Exit.NOINPUT)
    info(f"{n} profile items -> {out}")


@ede_app.command("list")
def ede_list(
    home: HomeOption,
    state: StateOpt,
    as_state: AsOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Every exchange, not only open requests.")] = False,
    json: JsonOption = False,
) -> None:
    """Open requests to answer / awaiting an answer (with --all every exchange) of a state."""
    from pipeline.portal import ede

    st = _own(state, as_state)
    _print(read_store(home, lambda con: ede.listing(con, st, open_only=not all_)), json, "exchanges")


@dra_app.command("list")
def dra_list(home: HomeOption, state: StateOpt, as_state: AsOpt = None, json: JsonOption = False) -> None:
    """A state's DRA uploads, every version."""
    from pipeline.portal import dra

    st = _own(state, as_state)
    _print(read_store(home, lambda con: dra.listing(con, st)), json, "uploads")


@dra_app.command("get")
def dra_get(
    home: HomeOption,
    state: StateOpt,
    year: Annotated[str, typer.Option("--year")],
    out: Annotated[Path, typer.Option("--out")],
    version: Annotated[Optional[int], typer.Option("--version")] = None,
    as_state: AsOpt = None,
    json: JsonOption = False,
) -> None:
    """Retrieve a stored DRA file byte for byte (sha256 checked)."""
    from pipeline.portal import dra
    from pipeline.portal.common import PortalError

    st = _own(state, as_state)
    try:
        got = read_store(home, lambda con: dra.retrieve(con, home, st, year, out, version))
    except PortalError as exc:
        fail(str(exc), Exit.NOINPUT)
    emit_json(got) if json else info(f"{st} {year} v{got['version']} sha256 {got['sha256']} -> {out}")


@sub_app.command("list")
def sub_list(
    home: HomeOption,
    state: Annotated[Optional[str], typer.Option("--state")] = None,
    as_state: AsOpt = None,
    json: JsonOption = False,
) -> None:
    """Submissions with status, version and issue count (a state: its own only)."""
    from pipeline.portal import submissions

    if as_state and not state:
        state = as_state
    st = _own(state, as_state) if state else None
    _print(read_store(home, lambda con: submissions.listing(con, st)), json, "submissions")


@sub_app.command("show")
def sub_show(
    home: HomeOption,
    state: StateOpt,
    kind: Annotated[Optional[str], typer.Option("--kind")] = None,
    as_state: AsOpt = None,
    json: JsonOption = False,
) -> None:
    """History (status events), state plan page statuses and per-field issues of a state's submissions."""
    from pipeline.portal import submissions

    st = _own(state, as_state)
    hist, pages, issues = read_store(
        home,
        lambda con: (
            submissions.history(con, st, kind),
            submissions.plan_pages(con, st),
            submissions.issues_of(con, st),
        ),
    )
    if json:
        emit_json({"history": hist.to_dicts(), "state_plan_pages": pages.to_dicts(), "issues": issues.to_dicts()})
        return
    for title, rows in (("history", hist), ("state plan pages", pages), ("issues", issues)):
        typer.echo(f"# {title}")
        _print(rows, False, title)


@sub_app.command("status")
def sub_status(
    home: HomeOption,
    state: StateOpt,
    page: Annotated[str, typer.Option("--page", help="SECTION/TRANSMITTAL")],
    to: Annotated[str, typer.Option("--to", help="approved | returned")],
    reason: Annotated[str, typer.Option("--reason")],
    operator: Annotated[Optional[str], typer.Option("--operator")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of")] = None,
) -> None:
    """OCSE decision on a submitted state plan page (audited, append-only)."""
    from pipeline.portal.common import PortalError
    from pipeline.portal.submissions import change_plan_status

    day = date.fromisoformat(as_of) if as_of else date.today()
    try:
        seq = _locked(
            home,
            lambda con: change_plan_status(
                con, state.upper(), page, to.lower(), reason, operator or getpass.getuser(), day
            ),
        )
    except PortalError as exc:
        fail(str(exc), Exit.DATAERR)
    typer.echo(f"{state.upper()} {page}: {to.lower()} (event {seq})")


def register(app: typer.Typer) -> None:
    app.add_typer(irg_app, name="irg")
    app.add_typer(ede_app, name="ede")
    app.add_typer(dra_app, name="dra")
    app.add_typer(sub_app, name="submissions")
    query_group(app).command("case")(query_case)
