"""`fpls run`, `fpls query person`, `fpls eval`: thin CLI over pipeline.cycle.run / query / cycle_eval."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from pipeline.cli.progress import cycle_progress, wanted
from pipeline.clikit import (
    EngineOption,
    Exit,
    HomeOption,
    JsonOption,
    SparkMasterOption,
    emit_json,
    emit_query,
    engine_or_exit,
    fail,
    info,
    query_group,
    read_store,
)
from pipeline.safeguards.masking import printable

if TYPE_CHECKING:
    from pipeline.cycle.run import CycleSummary
# pipeline.cycle.run imports every stage (pandera, altair: seconds); `fpls run` imports it when it runs.

AsOfOption = Annotated[Optional[str], typer.Option("--as-of", help="Cycle date YYYY-MM-DD (reproducible runs).")]


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        fail(f"--as-of must be YYYY-MM-DD, got {text!r}", Exit.USAGE)


def print_summary(s: CycleSummary) -> None:
    typer.echo(f"cycle {s.cycle_id} (as of {s.as_of}){' resumed' if s.resumed else ''}")
    typer.echo(
        f"{'partner':<16} {'files':>5} {'refused':>7} {'records':>10} {'rejected':>9} {'matches':>9} "
        f"{'acks':>8} {'FN':>8} {'FT':>6}"
    )
    for r in s.partners:
        typer.echo(
            f"{r['partner']:<16} {r['files']:>5} {r['files_refused']:>7} {r['records']:>10} {r['rejected']:>9} "
            f"{r['matches']:>9} {r['acks']:>8} {r['fn']:>8} {r['ft']:>6}"
        )
    refused = [f for f in s.files if f["status"] != "loaded"]
    for f in refused:
        name = printable(
            f"{f['submitter']}/{f['file']}"
        )  # a hostile name's control characters never reach the terminal
        typer.echo(f"  {f['status']:<9} {name}: {', '.join(f['codes'] or [])}")


def run(
    home: HomeOption,
    as_of: AsOfOption = None,
    watch_: Annotated[bool, typer.Option("--watch", help="Keep polling inbound/ and run cycles.")] = False,
    json: JsonOption = False,
    engine: EngineOption = "local",
    spark_master: SparkMasterOption = None,
) -> None:
    """Run one cycle over everything ready in inbound/ (or resume an interrupted one)."""
    kernels = engine_or_exit(engine, spark_master)  # before the cycle's imports: a missing extra fails fast
    from pipeline.cycle.run import POLL_SECONDS, CycleBusy, run_cycle, watch
    from pipeline.enforcement.asap_settings import SettingsError

    day = _as_of(as_of)
    show = (lambda s: emit_json(s.to_json())) if json else print_summary
    try:
        if watch_:
            busy = lambda exc: info(f"busy, trying again: {exc}")  # noqa: E731
            watch(home, day, POLL_SECONDS, show, on_busy=busy, engine=kernels)
            return
        with cycle_progress(wanted(json)) as progress:
            summary = run_cycle(home, day, progress=progress, engine=kernels)
    except CycleBusy as exc:
        fail(f"busy: {exc}", Exit.TEMPFAIL)
    except SettingsError as exc:  # a state's ASAP settings file (states/<ST>.yaml); the cycle resumes once fixed
        fail(f"configuration: {exc}", Exit.CONFIG)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    except PermissionError as exc:  # EACCES / EPERM on inbound/, outbound/, the store: the account's rights
        fail(f"permission denied: {exc}", Exit.NOPERM)
    except OSError as exc:
        fail(f"I/O error: {exc}", Exit.IOERR)
    finally:
        kernels.close()
    if summary is None:
        emit_json({"cycle": None, "message": "nothing ready in inbound/"}) if json else info(
            "nothing ready in inbound/"
        )
        return
    show(summary)


def query_person_cmd(
    home: HomeOption,
    ssn: Annotated[Optional[str], typer.Option("--ssn", help="SSN (9 digits).")] = None,
    member: Annotated[Optional[str], typer.Option("--member", help="State member ID.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="'FIRST LAST' (with --dob).")] = None,
    dob: Annotated[Optional[str], typer.Option("--dob", help="Date of birth YYYY-MM-DD.")] = None,
    show_ssn: Annotated[
        bool, typer.Option("--show-ssn", help="Show full SSNs (each use is recorded in <home>/logs/pii_access.jsonl).")
    ] = False,
    json: JsonOption = False,
) -> None:
    """A person's cases and roles in every state, SSN validity, deceased flag, latest NDNH employer."""
    from pipeline.cycle.query import query_person

    if not (ssn or member or name):
        fail("give --ssn, --member or --name (with --dob)", Exit.USAGE)
    rows = read_store(home, lambda con: query_person(con, ssn, member, name, _as_of(dob), show_ssn))
    if show_ssn:
        from pipeline.safeguards.access_log import record_pii_access

        criteria = {"ssn": ssn, "member": member, "name": name, "dob": dob}
        record_pii_access(home, "query person --show-ssn", criteria, len(rows))
    emit_query(
        rows,
        json,
        "persons",
        "no FCR person found",
        lambda r: (
            f"{r['state']} case {r['case_id']} ({r['case_type'] or '?'}) member {r['member_id']} "
            f"{r['participant_type']}{' FV' if r['family_violence'] else ''} [{r['status']}] "
            f"{r['first_name'] or ''} {r['last_name'] or ''} dob {r['dob']} ssn {r['ssn']} "
            f"verified {r['verified_ssn'] or '-'} validity {r['validity_code'] or ' '}"
            f"{' DECEASED ' + str(r['date_of_death']) if r['deceased'] else ''}"
            f" employer {r['latest_employer'] or '-'}"
        ),
    )


def eval_cmd(
    home: HomeOption,
    truth: Annotated[
        Optional[Path], typer.Option("--truth", help="Truth parquet (default <home>/truth.parquet).")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Precision / recall / F1 of the last cycle's SSN verification and NDNH locate matches."""
    from pipeline.evaluation.cycle import evaluate

    path = truth or home / "truth.parquet"
    if not path.is_file():
        fail(f"{path}: no truth file", Exit.NOINPUT)
    try:
        result = read_store(home, lambda con: evaluate(con, path))
    except (LookupError, KeyError) as exc:
        fail(str(exc), Exit.DATAERR)
    if json:
        emit_json(result)
        return
    typer.echo(f"cycle {result['cycle']}")
    for name, m in result["sources"].items():
        typer.echo(
            f"  {name:<18} precision {m['precision']:.4f} recall {m['recall']:.4f} f1 {m['f1']:.4f} "
            f"(tp {m['tp']} fp {m['fp']} fn {m['fn']})"
        )
    if "segments" in result:
        seg = result["segments"]
        for name in ("ability", "ability_verified_ssn", "behaviour"):
            m = seg[name]
            typer.echo(f"  {name:<18} accuracy {m['accuracy']} ({m['correct']} of {m['n']} parents)")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    query_group(app).command("person")(query_person_cmd)
    app.command("eval")(eval_cmd)
