"""`fpls generate`: a ready synthetic home (partners.yaml, inbound files, truth.parquet)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.clikit import Exit, JsonOption, emit_json, fail, info


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)


def generate_command(
    out: Annotated[
        Path,
        typer.Option("--out", help="Home directory to write (its inbound/, partners.yaml and truth are replaced)."),
    ],
    persons: Annotated[int, typer.Option("--persons", min=10, help="Number of synthetic persons.")] = 10_000,
    states: Annotated[
        str, typer.Option("--states", help="Comma-separated USPS codes of the IV-D states.")
    ] = "KS,MO,OK,TX",
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: same seed and arguments give byte-identical files.")
    ] = 1,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Cycle date YYYY-MM-DD (default today).")] = None,
    cycles: Annotated[int, typer.Option("--cycles", min=1, help="Number of cycles to generate.")] = 1,
    cadence: Annotated[
        str,
        typer.Option(
            "--cadence",
            help="Later cycles: weekly (that week's W-4s) or monthly (W-4s, QW, UI, case financials, payments, "
            "ASAP contact outcomes of the month).",
        ),
    ] = "weekly",
    samples: Annotated[
        bool, typer.Option("--samples", help="Sample home: more bad records and one file with a bad header.")
    ] = False,
    rates: Annotated[Optional[Path], typer.Option("--rates", help="YAML overriding any of synth/rates.yaml.")] = None,
    json: JsonOption = False,
) -> None:
    """Generate a synthetic population and every inbound file type, with ground truth."""
    from synth.home import generate, parse_as_of
    from synth.reference import states as state_table

    codes = [s.strip().upper() for s in states.split(",") if s.strip()]
    known = set(state_table().get_column("usps").to_list())
    if not codes or any(c not in known for c in codes) or len(set(codes)) != len(codes):
        fail(f"--states must be distinct USPS codes, got '{states}'", Exit.USAGE)
    try:
        day = parse_as_of(as_of)
    except ValueError:
        fail(f"--as-of must be YYYY-MM-DD, got '{as_of}'", Exit.USAGE)
    if cadence not in ("weekly", "monthly"):
        fail(f"--cadence must be weekly or monthly, got '{cadence}'", Exit.USAGE)
    if rates is not None and not rates.is_file():
        fail(f"{rates}: no such rates file", Exit.NOINPUT)
    try:
        summary = generate(
            persons, codes, seed, out, day, cycles=cycles, samples=samples, rates_path=rates, cadence=cadence
        )
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}", Exit.IOERR)
    if json:
        emit_json(summary)
    else:
        info(
            f"generated {summary['files']} files, {summary['records']} records for {persons} persons "
            f"in {summary['seconds']} s -> {out}"
        )
