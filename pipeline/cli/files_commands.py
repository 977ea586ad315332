"""`fpls layouts`, `fpls validate`, `fpls read`: file-level commands that need no home."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import polars as pl
import typer

from pipeline.clikit import Exit, JsonOption, default_home, emit_json, fail
from pipeline.files.layouts import Layout, LayoutError, load_all_layouts, load_layout
from pipeline.safeguards.masking import mask_ssn_expr

if TYPE_CHECKING:
    from pipeline.files.validate import ValidationResult
# pipeline.files.validate / pipeline.files.decode pull in pandera (~1 s); they are imported by the commands that use them.

LayoutOption = Annotated[Optional[str], typer.Option("--layout", help="Layout name (default: detected from the file).")]
SHOWN_ERRORS = 20


def _layouts() -> dict[str, Layout]:
    try:
        return load_all_layouts()
    except LayoutError as exc:
        fail(str(exc), Exit.CONFIG)


def _layout_or_none(name: str | None) -> Layout | None:
    """The named layout, or None to detect it; a broken layouts/ folder is a configuration error either way."""
    layouts = _layouts()
    if name is None:
        return None
    if name not in layouts:
        fail(f"unknown layout '{name}'; `fpls layouts` lists them", Exit.USAGE)
    return load_layout(name)


def _existing(path: Path) -> Path:
    if not path.is_file():
        fail(f"{path}: no such file", Exit.NOINPUT)
    return path


layouts_app = typer.Typer(help="List the record layouts, or show one as a field table.", invoke_without_command=True)


@layouts_app.callback()
def list_layouts(ctx: typer.Context, json: JsonOption = False) -> None:
    """List every layout: name, format, direction, record types."""
    if ctx.invoked_subcommand:
        return
    rows = [
        {
            "name": lay.name,
            "format": lay.format,
            "direction": lay.direction,
            "records": [r.id for r in lay.records],
            "title": lay.title,
        }
        for lay in _layouts().values()
    ]
    if json:
        emit_json({"layouts": rows})
        return
    for r in rows:
        typer.echo(f"{r['name']:<22} {r['format']:<6} {r['direction']:<9} {','.join(r['records']):<16} {r['title']}")


@layouts_app.command("show")
def show_layout(name: str, json: JsonOption = False) -> None:
    """Print one layout as a field table (positions are 1-based, inclusive)."""
    layout = _layout_or_none(name)
    if json:
        emit_json(
            {
                "layout": name,
                "records": [
                    {"id": r.id, "role": r.role, "fields": [f.__dict__ for f in r.fields]} for r in layout.records
                ],
            }
        )
        return
    typer.echo(f"{layout.name}: {layout.title} ({layout.format}, {layout.record_length or 'csv'})")
    for record in layout.records:
        typer.echo(f"\n[{record.id}] {record.role}: {record.description}")
        typer.echo(f"  {'field':<32} {'pos':>9} {'len':>4} {'type':<7} {'req':<3} {'prov':<4} rule")
        for f in record.fields:
            pos = f"{f.start}-{f.end}" if layout.format == "fixed" else f.column
            rule = ",".join(f.values) or f.pattern
            typer.echo(
                f"  {f.name:<32} {pos:>9} {f.length or '':>4} {f.type:<7} {('W' if f.severity == 'warning' else 'Y') if f.required else '':<3} "
                f"{f.prov:<4} {rule}"
            )


def _print_summary(result: ValidationResult) -> None:
    typer.echo(
        f"{result.file}: {result.file_status.upper()} as {result.layout or 'unknown type'} — "
        f"{result.records} records, {result.accepted} accepted, {result.rejected} rejected"
        + (f", {n} warnings" if (n := len(result.warnings) + result.record_warnings.height) else "")
    )
    rows = result.file_errors + result.rejects.head(SHOWN_ERRORS).to_dicts() + result.warnings
    rows += result.record_warnings.head(SHOWN_ERRORS).to_dicts()
    for r in rows:
        where = (
            f"line {r['line']}"
            + (f" {r['record_type']}" if r["record_type"] else "")
            + (f".{r['field']}" if r["field"] else "")
        )
        typer.echo(f"  {r['code']:<17} {where}: {r['message']}" + (f" [{r['value']}]" if r["value"] else ""))
    if result.rejects.height > SHOWN_ERRORS:
        typer.echo(f"  … {result.rejects.height - SHOWN_ERRORS} more; --rejects OUT.csv writes them all")


def validate(
    file: Path,
    layout: LayoutOption = None,
    json: JsonOption = False,
    rejects: Annotated[Optional[Path], typer.Option("--rejects", help="Write every reject row to this CSV.")] = None,
) -> None:
    """Detect, read and validate one file without loading it. Exit 0 if accepted, 65 if rejected whole."""
    from pipeline.files.validate import validate_file

    chosen = _layout_or_none(layout)
    result = validate_file(_existing(file), chosen)
    if rejects:
        pl.concat([pl.DataFrame(result.file_errors, schema=result.rejects.schema), result.rejects]).write_csv(rejects)
    emit_json(result.to_json()) if json else _print_summary(result)
    if result.file_status == "rejected":
        reason = result.file_errors[0]["message"]
        fail(f"{file.name} rejected: {reason}", Exit.DATAERR)


def read(
    file: Path,
    layout: LayoutOption = None,
    record: Annotated[
        Optional[str], typer.Option("--record", help="Record type to decode (default: the data record).")
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option(
            "--out", help="Write OUT.csv or OUT.parquet (full values); without it, CSV goes to stdout with SSNs masked."
        ),
    ] = None,
    show_ssn: Annotated[
        bool,
        typer.Option(
            "--show-ssn", help="Show full SSNs on stdout (each use is recorded in <home>/logs/pii_access.jsonl)."
        ),
    ] = False,
    home: Annotated[
        Optional[Path],
        typer.Option("--home", help="fpls home whose logs record --show-ssn (default $FPLS_HOME, else ./var)."),
    ] = None,
) -> None:
    """Decode any known fixed-width or CSV file (inbound or outbound) to named columns."""
    from pipeline.files.decode import decode_file
    from pipeline.files.read import detect_layout

    chosen = _layout_or_none(layout)
    try:
        frame = decode_file(_existing(file), chosen, record)
    except LookupError as exc:
        fail(str(exc), Exit.DATAERR)
    if out is None:  # CSV to stdout, SSNs masked unless asked for
        pii = [] if show_ssn else _ssn_columns(frame, chosen or detect_layout(file))
        if show_ssn:
            from pipeline.safeguards.access_log import record_pii_access

            criteria = {"file": str(file), "record": record}
            record_pii_access(home or default_home(), "read --show-ssn", criteria, frame.height)
        typer.echo(frame.with_columns([mask_ssn_expr(c).alias(c) for c in pii]).write_csv(), nl=False)
        return
    frame.write_parquet(out) if out.suffix == ".parquet" else frame.write_csv(out)
    typer.echo(f"{frame.height} records → {out}")


def _ssn_columns(frame, layout) -> list[str]:
    """The columns holding SSNs: the layout's `pii: ssn` fields (a validity code is not an SSN)."""
    marked = {f.name for r in layout.records for f in r.fields if f.pii} if layout else set()
    return [c for c in frame.columns if c in marked]


def register(app: typer.Typer) -> None:
    app.add_typer(layouts_app, name="layouts")
    app.command()(validate)
    app.command()(read)
