"""`fpls link` and `fpls verify-ssn` (DESIGN §4, §6, §8).

Both read person-schema CSVs; bad rows are handled per row (see matchers/persons.py) and summarised
on stderr by issue code and line, never with an SSN. Output files are operator data files and may
carry SSNs; stdout and stderr never do.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Optional

import polars as pl
import typer

from pipeline.clikit import (
    EngineOption,
    Exit,
    HomeOption,
    JsonOption,
    SparkMasterOption,
    emit_json,
    engine_or_exit,
    fail,
    info,
)

OutOption = Annotated[Path, typer.Option("--out", help="Output CSV.")]


def _report_issues(issues: pl.DataFrame, limit: int = 10) -> None:
    if issues.height == 0:
        return
    counts = issues.group_by("issue").len().sort("issue")
    info("input issues: " + ", ".join(f"{code}={n}" for code, n in counts.iter_rows()))
    for row in (
        issues.filter(pl.col("issue").is_in(["NO_ID", "DUPLICATE_ID", "ALL_BLANK"])).head(limit).iter_rows(named=True)
    ):
        side = f"{row['side']} " if "side" in row else ""
        info(f"  {side}line {row['line']}: {row['issue']} (row dropped)")


def _read_persons(path: Path):
    from matchers.persons import PersonFileError, read_person_csv

    if not path.is_file():
        fail(f"input file not found: {path}", Exit.NOINPUT)
    try:
        return read_person_csv(path)
    except PersonFileError as exc:
        fail(str(exc), Exit.DATAERR)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}", Exit.IOERR)


def _write_csv(frame: pl.DataFrame, out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        frame.write_csv(tmp)
        tmp.replace(out)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror}", Exit.IOERR)


def link_command(
    left: Annotated[Path, typer.Argument(help="Left person-schema CSV.")],
    right: Annotated[Path, typer.Argument(help="Right person-schema CSV.")],
    out: OutOption,
    home: HomeOption,
    one_to_one: Annotated[
        bool, typer.Option("--one-to-one", help="At most one match per left AND per right row.")
    ] = False,
    params: Annotated[
        Optional[Path], typer.Option("--params", help="Load trained m/u/prior (JSON) instead of training.")
    ] = None,
    save_params: Annotated[
        Optional[Path], typer.Option("--save-params", help="Save the trained parameters (JSON).")
    ] = None,
    settings: Annotated[
        Optional[Path], typer.Option("--settings", help="Settings YAML (default matchers/settings.yaml).")
    ] = None,
    json_out: JsonOption = False,
    engine: EngineOption = "local",
    spark_master: SparkMasterOption = None,
) -> None:
    """Link two person-schema CSVs; write left_id,right_id,match_weight,match_probability,decision,explanation."""
    from matchers.em import Parameters
    from matchers.link import link
    from matchers.settings import SettingsError, load_settings

    started = time.perf_counter()
    try:
        compiled = load_settings(settings)
    except SettingsError as exc:
        fail(str(exc), Exit.CONFIG)
    loaded = None
    if params is not None:
        if not params.is_file():
            fail(f"parameters file not found: {params}", Exit.NOINPUT)
        try:
            loaded = Parameters.load(params)
        except (ValueError, KeyError, TypeError) as exc:
            fail(f"bad parameters file {params}: {exc}", Exit.CONFIG)
    lf, rf = _read_persons(left), _read_persons(right)

    def show_cost(counts: dict[str, int], total: int) -> None:
        info("blocking rule pairs (before scoring):")
        for name, n in counts.items():
            info(f"  {name:<24} {n:>12,}")
        info(f"  {'candidates (deduplicated)':<24} {total:>12,}")

    kernels = engine_or_exit(engine, spark_master)
    with tempfile.TemporaryDirectory(prefix=".fpls-link-", dir=os.environ.get("FPLS_SPARK_SCRATCH")) as scratch:
        try:  # the scratch folder holds the pairs' Parquet for Spark, removed when the link is done
            bound = kernels.bound(Path(scratch), None)
            pairs, result = link(
                lf, rf, compiled, params=loaded, one_to_one=one_to_one, on_candidates=show_cost, engine=bound
            )
        finally:
            kernels.close()
    if result.issues is not None:
        _report_issues(result.issues)
    _write_csv(pairs, out)
    if save_params is not None and result.parameters is not None:
        try:
            result.parameters.save(save_params)
        except OSError as exc:
            fail(f"cannot write {save_params}: {exc.strerror}", Exit.IOERR)
    summary = result.summary()
    summary["seconds"] = round(time.perf_counter() - started, 3)
    summary["out"] = str(out)
    if json_out:
        emit_json(summary)
    else:
        typer.echo(
            f"pairs={summary['pairs']} matches={summary['matches']} reviews={summary['reviews']} "
            f"candidates={summary['candidate_pairs']} seconds={summary['seconds']}"
        )


def _read_frame(path: Path) -> pl.DataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        fail(f"cannot read {path}: {type(exc).__name__}", Exit.IOERR)


def _load_master(master: Optional[Path], home: Path) -> pl.DataFrame:
    if master is not None:
        if not master.is_file():
            fail(f"SSA master file not found: {master}", Exit.NOINPUT)
        return _read_frame(master)
    store = home / "fpls.duckdb"
    if not store.is_file():
        fail(f"no SSA master: {store} does not exist (load one with a cycle, or pass --master FILE)", Exit.NOINPUT)
    import duckdb

    try:
        con = duckdb.connect(str(store), read_only=True)
        try:
            return con.execute("SELECT * FROM ssa_master").pl()
        finally:
            con.close()
    except duckdb.CatalogException:
        fail(f"no SSA master: table ssa_master is not in {store} (pass --master FILE)", Exit.NOINPUT)
    except duckdb.IOException as exc:
        fail(f"cannot open {store}: {exc}", Exit.IOERR)


def verify_command(
    file: Annotated[Path, typer.Argument(help="Person-schema CSV to verify.")],
    out: OutOption,
    home: HomeOption,
    master: Annotated[
        Optional[Path],
        typer.Option("--master", help="SSA master (CSV or parquet); default: table ssa_master in <home>/fpls.duckdb."),
    ] = None,
    misidentified: Annotated[
        Optional[Path], typer.Option("--misidentified", help="Misidentified participants (state, member_id, ssn).")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Verify / identify the SSN of each person row against the SSA master (validity codes V C E N P R blank)."""
    from matchers.verify import MasterError, verify_ssns

    started = time.perf_counter()
    persons = _read_persons(file)
    ssa = _load_master(master, home)
    mis = None
    if misidentified is not None:
        if not misidentified.is_file():
            fail(f"misidentified-participant file not found: {misidentified}", Exit.NOINPUT)
        mis = _read_frame(misidentified)
    try:
        result, issues = verify_ssns(persons, ssa, mis)
    except MasterError as exc:
        fail(str(exc), Exit.DATAERR)
    _report_issues(issues)
    output = result.with_columns(pl.col("other_ssns").list.join(";"))
    _write_csv(output, out)
    counts = dict(result.group_by("ssn_validity").len().iter_rows())
    summary = {
        "records": result.height,
        "codes": {(k or "blank"): v for k, v in sorted(counts.items(), key=lambda kv: kv[0] or "~")},
        "deceased": int(result["deceased"].sum()),
        "input_issues": dict(issues.group_by("issue").len().iter_rows()) if issues.height else {},
        "seconds": round(time.perf_counter() - started, 3),
        "out": str(out),
    }
    if json_out:
        emit_json(summary)
    else:
        codes = " ".join(f"{k}={v}" for k, v in summary["codes"].items())
        typer.echo(f"records={summary['records']} {codes} deceased={summary['deceased']} seconds={summary['seconds']}")


def register(app: typer.Typer) -> None:
    app.command("link")(link_command)
    app.command("verify-ssn")(verify_command)
