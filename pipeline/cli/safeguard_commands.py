"""`fpls audit disclosures`, `fpls purge`, `fpls store rekey`: the safeguards an operator runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline import store
from pipeline.clikit import Exit, HomeOption, JsonOption, emit_json, fail, open_store
from pipeline.safeguards.masking import mask_ssn_expr
from pipeline.store.access import durable_copy
from pipeline.store.encryption import KEY_FILE_ENV, configured_key, rekey

audit_app = typer.Typer(help="Audit trails: who received which person's data.", no_args_is_help=True)
store_app = typer.Typer(help="Store administration (encryption keys).", no_args_is_help=True)


@audit_app.command("disclosures")
def audit_disclosures(
    home: HomeOption,
    ssn: Annotated[Optional[str], typer.Option("--person", "--ssn", help="The person's SSN.")] = None,
    member: Annotated[Optional[str], typer.Option("--member", help="The person's FCR member ID.")] = None,
    recipient: Annotated[Optional[str], typer.Option("--recipient", help="A recipient (state, partner id).")] = None,
    json: JsonOption = False,
) -> None:
    """Who received this person's data, when, which categories, on what legal basis (SSNs masked)."""
    if not (ssn or member or recipient):
        fail("give --person/--ssn, --member or --recipient", Exit.USAGE)
    from pipeline.safeguards.disclosure import disclosures_of

    rows = disclosures_of(open_store(home, write=True), ssn, member, recipient).with_columns(
        mask_ssn_expr("person_key").alias("person_key")
    )
    if json:
        emit_json({"disclosures": rows.to_dicts(), "count": rows.height})
        return
    typer.echo(rows.write_csv(), nl=False)


def purge_command(
    home: HomeOption,
    older_than: Annotated[int, typer.Option("--older-than", help="Remove cycle folders older than DAYS.", min=1)],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Today's date (YYYY-MM-DD) for the cutoffs.")] = None,
    json: JsonOption = False,
) -> None:
    """Remove archived inbound, outbound, quarantine and work folders older than DAYS and NDNH history
    past its legal retention (24 months); every removal is logged in the store's purge_log."""
    from pipeline.store.purge import purge

    today = date.fromisoformat(as_of) if as_of else date.today()
    result = purge(open_store(home, write=True), home, older_than, today)
    if json:
        emit_json({"removed": result.removed})
        return
    for row in result.removed:
        typer.echo(
            f"{row['kind']:<11} {row['target']:<48} before {row['cutoff']}  {row['items']:>9} items {row['bytes']:>12} bytes"
        )


@store_app.command("rekey")
def store_rekey(
    home: HomeOption,
    new_key_file: Annotated[Optional[Path], typer.Option("--new-key-file", help="File holding the new key.")] = None,
    decrypt: Annotated[bool, typer.Option("--decrypt", help="Write the store unencrypted.")] = False,
) -> None:
    """Rotate the store key (or encrypt a plain store): the current key comes from FPLS_DB_KEY /
    FPLS_DB_KEY_FILE, the new one from a file (never from the command line). Re-encrypts by copy."""
    if (new_key_file is None) == (not decrypt):
        fail("give exactly one of --new-key-file or --decrypt", Exit.USAGE)
    try:
        new_key = None if decrypt else new_key_file.read_text().strip()
    except FileNotFoundError:
        fail(f"{new_key_file}: no such key file", Exit.NOINPUT)
    except PermissionError:
        fail(f"{new_key_file}: permission denied", Exit.NOPERM)
    except OSError as exc:
        fail(f"{new_key_file}: {exc.strerror}", Exit.IOERR)
    if not decrypt and not new_key:
        fail(f"{new_key_file} is empty", Exit.USAGE)
    path = home / store.DB_NAME
    if not path.exists():
        fail(f"no store at {path}", Exit.NOINPUT)
    with store.home_lock(home):  # no cycle may run while the file is swapped (busy → exit 75)
        rekey(path, configured_key(), new_key)
        if store.snapshot_path(home).exists():  # the operators' snapshot must open with the new key too
            durable_copy(path, store.snapshot_path(home))
    typer.echo(f"{path}: {'decrypted' if decrypt else 're-encrypted'}; point {KEY_FILE_ENV} at the new key file")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(store_app, name="store")
    app.command("purge")(purge_command)
