"""Pieces shared by the enforcement stage modules: name keys, the debtor population, outbound writing
with a merged manifest, append-only sequence numbers.

Outbound files of the enforcement exchanges go beside the FCR response files in
`outbound/<recipient>/<cycle>/`; `manifest.json` there is merged (entries replaced by file name), so the
FCR stage's entries and ours live in one manifest whichever stage writes last.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import polars as pl

from pipeline.layouts import load_layout
from pipeline.writer import atomic_write, fixed_bytes

FI_KINDS = ("fi", "financial_institution")
Blocks = list[tuple[str, pl.DataFrame]]


def key4(expr: pl.Expr) -> pl.Expr:
    """First four letters of a name (letters only, upper case): the MSFIDM / FOP surname key."""
    return expr.cast(pl.Utf8).str.to_uppercase().str.replace_all(r"[^A-Z]", "").str.slice(0, 4)


def sql_key4(col: str) -> str:
    return f"left(regexp_replace(upper(coalesce({col}, '')), '[^A-Z]', '', 'g'), 4)"


def has_code(col: str, code: str) -> str:
    """SQL: does the comma list in `col` hold `code`."""
    return f"list_contains(string_split(coalesce({col}, ''), ','), '{code}')"


def next_seq(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT coalesce(max(seq), 0) FROM {table}").fetchone()[0])


def debtor_persons(con: duckdb.DuckDBPyConnection, exclusion: str | None) -> pl.DataFrame:
    """Active certified debtors, one row per (state, SSN), excluding those whose every active case
    excludes `exclusion` (e.g. FIN for MSFIDM, INS for insurance); names from the registry, DOB and
    middle name from the SSA master."""
    excl = f"AND NOT {has_code('d.exclusions', exclusion)}" if exclusion else ""
    return _frame(con, f"""
        SELECT d.state, d.ssn, first(d.last_name ORDER BY d.case_type) AS last_name,
               first(d.first_name ORDER BY d.case_type) AS first_name,
               first(d.address_line_1 ORDER BY d.case_type) AS street, first(d.city ORDER BY d.case_type) AS city,
               first(d.addr_state ORDER BY d.case_type) AS addr_state, first(left(d.zip, 5) ORDER BY d.case_type) AS zip,
               first(m.middle_name) AS middle_name, first(m.dob) AS dob, first(m.sex) AS sex,
               first(m.last_name) AS master_last_name, first(m.first_name) AS master_first_name,
               min(d.source_file_id) AS source_file_id
        FROM debtors d LEFT JOIN ssa_current m ON m.ssn = d.ssn
        WHERE d.status = 'active' {excl}
        GROUP BY d.state, d.ssn ORDER BY d.state, d.ssn""")


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    from pipeline.store import frame
    return frame(con, sql, params)


def fv_states(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(ssn, fv_state): every state that flags a verified SSN's person FV (family violence)."""
    return _frame(con, """SELECT DISTINCT verified_ssn AS ssn, state AS fv_state FROM fcr_persons
        WHERE status = 'active' AND family_violence = 'FV' AND verified_ssn IS NOT NULL""")


def add_withheld(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """Add `data_withheld` = 'Y' where the person (column `ssn`) is flagged FV by a state other than the
    recipient (column `state`): that state gets no address or employer data (DESIGN §8)."""
    fv = fv_states(con)
    hit = (frame.select("state", "ssn").unique().join(fv, on="ssn", how="inner")
           .filter(pl.col("fv_state") != pl.col("state")).select("state", "ssn").unique()
           .with_columns(pl.lit("Y").alias("data_withheld")))
    return frame.join(hit, on=["state", "ssn"], how="left")


def write_blocks(home: Path, cycle: str, recipient: str, name: str, layout_name: str, blocks: Blocks) -> dict:
    """Write one fixed-width outbound file atomically and merge its entry into the folder's manifest."""
    folder = Path(home) / "outbound" / recipient / cycle
    folder.mkdir(parents=True, exist_ok=True)
    data = fixed_bytes(load_layout(layout_name), blocks)
    atomic_write(folder / name, data)
    entry = {"name": name, "layout": layout_name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
             "records": {rid: f.height for rid, f in blocks}}
    merge_manifest(folder, cycle, recipient, [entry])
    return {"recipient": recipient, **entry}


def merge_manifest(folder: Path, cycle: str, recipient: str, entries: list[dict]) -> None:
    path = folder / "manifest.json"
    manifest = {"cycle": cycle, "recipient": recipient, "files": []}
    if path.is_file():
        try:
            manifest = json.loads(path.read_text())
        except ValueError:
            pass
    names = {e["name"] for e in entries}
    files = [f for f in manifest.get("files", []) if f.get("name") not in names] + entries
    manifest["files"] = sorted(files, key=lambda f: f["name"])
    atomic_write(path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())


def header(recipient_state: str | None, as_of, cycle: str) -> pl.DataFrame:
    data = {"date_stamp": [as_of], "cycle_id": [cycle]}
    if recipient_state is not None:
        data["recipient_state"] = [recipient_state]
    return pl.DataFrame(data)
