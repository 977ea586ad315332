"""CLI of the enforcement exchanges: `fpls passport release|list`, `fpls misidentified add|remove|list`,
`fpls query employer`, `fpls employers report`. SSNs are masked in every output.

Changing commands take the cycle lock (exit 75 while a cycle runs) and write their audit rows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.clikit import (
    Exit,
    HomeOption,
    JsonOption,
    emit_json,
    emit_query,
    fail,
    info,
    open_store,
    query_group,
    read_store,
)
from pipeline.safeguards.masking import mask_ssn, mask_ssn_expr

StateOpt = Annotated[str, typer.Option("--state", help="State USPS code.")]
SsnOpt = Annotated[str, typer.Option("--ssn", help="SSN, 9 digits.")]

passport_app = typer.Typer(help="Passport denial: list, emergency release.", no_args_is_help=True)
misid_app = typer.Typer(help="Misidentified participants (SSNs that are not a member's).", no_args_is_help=True)
employers_app = typer.Typer(help="eEmployer reports.", no_args_is_help=True)


def _ssn(ssn: str) -> str:
    digits = ssn.replace("-", "").strip()
    if not re.fullmatch(r"\d{9}", digits):
        fail("--ssn must be 9 digits", Exit.USAGE)
    return digits


def _locked(home: Path, action):
    from pipeline.cycle.run import CycleBusy, cycle_lock

    try:
        with cycle_lock(home):
            con = open_store(home, write=True)
            try:
                return action(con)
            finally:
                con.close()
    except CycleBusy as exc:
        fail(str(exc), Exit.TEMPFAIL)


@passport_app.command("release")
def passport_release(
    home: HomeOption,
    state: StateOpt,
    ssn: SsnOpt,
    reason: Annotated[str, typer.Option("--reason", help="Why (audited).")],
    operator: Annotated[Optional[str], typer.Option("--operator", help="Who (default: login name).")] = None,
    json: JsonOption = False,
) -> None:
    """Emergency release of a certified passport denial (audited, append-only)."""
    from pipeline.enforcement.passport import emergency_release

    digits, st = _ssn(ssn), state.upper()
    if not reason.strip():
        fail("--reason must not be blank", Exit.USAGE)
    try:
        out = _locked(home, lambda con: emergency_release(con, st, digits, reason.strip(), operator))
    except LookupError as exc:
        fail(str(exc), Exit.DATAERR)
    out = {**out, "ssn": mask_ssn(digits)}
    emit_json(out) if json else typer.echo(
        f"released passport denial: {st} {mask_ssn(digits)} (audit seq {out['seq']})"
    )


@passport_app.command("list")
def passport_list(
    home: HomeOption, state: Annotated[Optional[str], typer.Option("--state")] = None, json: JsonOption = False
) -> None:
    """Current passport denial status per (state, SSN)."""
    from pipeline.store import frame

    rows = read_store(
        home,
        lambda con: frame(
            con,
            """SELECT state, ssn, status, arrears, certified_cycle, released_cycle,
            reason FROM passport_status WHERE (? IS NULL OR state = ?) ORDER BY state, ssn""",
            [state, state],
        ),
    )
    rows = rows.with_columns(mask_ssn_expr("ssn").alias("ssn"))
    if json:
        emit_json({"passports": rows.to_dicts()})
        return
    for r in rows.iter_rows(named=True):
        typer.echo(
            f"{r['state']} {r['ssn']} {r['status']:<19} arrears ${r['arrears']} certified {r['certified_cycle'] or '-'}"
        )


def _misid(home: Path, state: str, member: str, ssn: str, action: str, reason: str | None, json: bool) -> None:
    from pipeline.enforcement.misidentified import change

    digits, st = _ssn(ssn), state.upper()
    out = _locked(home, lambda con: change(con, st, member, digits, action, reason))
    payload = {
        "state": st,
        "member_id": member,
        "ssn": mask_ssn(digits),
        "action": "add" if action == "A" else "remove",
        **out,
    }
    emit_json(payload) if json else typer.echo(
        f"{payload['action']}: {st} member {member} SSN {mask_ssn(digits)}; members to re-verify: {out['reverify']}"
    )


@misid_app.command("add")
def misid_add(
    home: HomeOption,
    state: StateOpt,
    member: Annotated[str, typer.Option("--member")],
    ssn: SsnOpt,
    reason: Annotated[Optional[str], typer.Option("--reason")] = None,
    json: JsonOption = False,
) -> None:
    """Forbid an SSN for a member (honoured by FCR verification from the next cycle)."""
    _misid(home, state, member, ssn, "A", reason, json)


@misid_app.command("remove")
def misid_remove(
    home: HomeOption,
    state: StateOpt,
    member: Annotated[str, typer.Option("--member")],
    ssn: SsnOpt,
    reason: Annotated[Optional[str], typer.Option("--reason")] = None,
    json: JsonOption = False,
) -> None:
    """Take an SSN off a member's misidentified list."""
    _misid(home, state, member, ssn, "D", reason, json)


@misid_app.command("list")
def misid_list(
    home: HomeOption,
    state: Annotated[Optional[str], typer.Option("--state")] = None,
    member: Annotated[Optional[str], typer.Option("--member")] = None,
    audit: Annotated[bool, typer.Option("--audit", help="Show the audit trail instead.")] = False,
    json: JsonOption = False,
) -> None:
    """The current list (or, with --audit, every change)."""
    from pipeline.enforcement import misidentified

    rows = read_store(
        home, lambda con: misidentified.audit(con, state) if audit else misidentified.listing(con, state, member)
    )
    rows = rows.with_columns(mask_ssn_expr("ssn").alias("ssn"))
    if json:
        emit_json({"misidentified": rows.to_dicts()})
        return
    for r in rows.iter_rows(named=True):
        typer.echo(" ".join(str(v) for v in r.values() if v is not None))


def query_employer(
    home: HomeOption,
    fein: Annotated[Optional[str], typer.Option("--fein")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Part of a name.")] = None,
    json: JsonOption = False,
) -> None:
    """eEmployer: FEIN, names, address, first / last reported, hires, wage records; MSER state, e-IWO
    (SYS / NPO / N) and Debt Inquiry participation, medical insurance offered, address for IWOs."""
    from pipeline.enforcement.employers import query_employer as query

    if not (fein or name):
        fail("give --fein or --name", Exit.USAGE)
    rows = read_store(home, lambda con: query(con, fein, name))
    emit_query(
        rows.to_dicts(),
        json,
        "employers",
        "no employer found",
        lambda r: (
            f"{r['employer_fein']} {r['employer_name']} | {r['address_line_1'] or ''} {r['city'] or ''} "
            f"{r['state'] or ''} {r['zip'] or ''} | last reported {r['last_reported']} | hires {r['hires']} "
            f"| wage records {r['wage_records']} | MSER {r['mser_reporting_state'] or '-'} | e-IWO {r['eiwo']} "
            f"| Debt Inquiry {r['debt_inquiry']} | medical insurance {r['medical_insurance'] or 'unknown'} "
            f"| IWO address {r['iwo_address_line_1'] or ''} {r['iwo_city'] or ''} {r['iwo_state'] or ''} "
            f"{r['iwo_zip'] or ''}{' via ' + r['iwo_recipient_fein'] if r['iwo_recipient_fein'] else ''} "
            f"| IWOs received {r['iwo_received']} open {r['iwo_open']}"
        ),
    )


@employers_app.command("report")
def employers_report(
    home: HomeOption,
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    out: Annotated[Optional[Path], typer.Option("--out", help="CSV path (default stdout).")] = None,
) -> None:
    """Employers that reported new hires late (> 20 days after hire) or not at all in the month, or answered
    e-IWOs late (> 14 days) or not at all; with each employer's e-IWO acknowledgment timeliness."""
    from pipeline.enforcement.employers import late_report

    _monthly_csv(home, month, out, late_report, "employers")


@employers_app.command("mser")
def employers_mser(
    home: HomeOption,
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    out: Annotated[Optional[Path], typer.Option("--out", help="CSV path (default stdout).")] = None,
) -> None:
    """Multistate employer registrations by reporting state: registered, new, new hires received (direct / via
    a state directory / for employees in other states)."""
    from pipeline.enforcement.mser import mser_report

    _monthly_csv(home, month, out, mser_report, "reporting states")


def _monthly_csv(home: Path, month: str, out: Optional[Path], build, rows_are: str) -> None:
    """A month's employer report (`build(con, month)`) as CSV to OUT, or to stdout."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        fail("--month must be YYYY-MM", Exit.USAGE)
    report = read_store(home, lambda con: build(con, month))
    if out:
        report.write_csv(out)
        info(f"{report.height} {rows_are} -> {out}")
    else:
        typer.echo(report.write_csv(), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(passport_app, name="passport")
    app.add_typer(misid_app, name="misidentified")
    app.add_typer(employers_app, name="employers")
    query_group(app).command("employer")(query_employer)
