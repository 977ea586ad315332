"""Pieces shared by the portal modules: the stage context, staged rows as typed frames, attachments,
byte-identical document delivery, issue rows and the PORTALRCPT receipt per party."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipeline.files.codes import STATE_FIPS
from pipeline.files.delivery import merge_manifest
from pipeline.files.layouts import load_layout
from pipeline.files.writer import atomic_write, csv_bytes
from pipeline.store import frame, insert_frame

RECEIPT_LAYOUT, DOCUMENT_LAYOUT = "portal_receipt", "portal_document"
ISSUE_COLUMNS = {
    "cycle_id": pl.Utf8,
    "file_id": pl.Int32,
    "line_no": pl.Int64,
    "state": pl.Utf8,
    "kind": pl.Utf8,
    "field": pl.Utf8,
    "code": pl.Utf8,
    "message": pl.Utf8,
}


@dataclass
class PortalContext:
    con: duckdb.DuckDBPyConnection
    home: Path
    cycle_id: str
    as_of: date


class PortalError(LookupError):
    """A portal request that cannot be served (unknown item, wrong status, not the caller's)."""


def staged(
    con: duckdb.DuckDBPyConnection, cycle_id: str, layout_name: str, record_id: str | None = None
) -> pl.DataFrame:
    """The cycle's accepted rows of one portal layout as typed columns (amounts Int64, dates Date)."""
    record = next(r for r in load_layout(layout_name).records if r.role == "data" and (record_id in (None, r.id)))
    kept = [f for f in record.fields if f.kept and f.name != "record_id"]
    dtype = pl.Struct({f.name: pl.Int64 if f.type == "amount" else pl.Utf8 for f in kept})
    raw = frame(
        con,
        """SELECT cycle_id, file_id, line_no, submitter, row_json FROM portal_input
        WHERE cycle_id = ? AND layout = ? AND (? IS NULL OR record_id = ?) ORDER BY file_id, line_no""",
        [cycle_id, layout_name, record.id, record.id],
    )
    if raw.is_empty():
        return pl.DataFrame(
            schema={
                "cycle_id": pl.Utf8,
                "file_id": pl.Int32,
                "line_no": pl.Int64,
                "submitter": pl.Utf8,
                **dict(dtype.to_schema()),
            }
        )
    out = raw.with_columns(pl.col("row_json").str.json_decode(dtype)).unnest("row_json")
    dates = [f.name for f in kept if f.type == "date"]
    return out.with_columns([pl.col(d).str.to_date("%Y-%m-%d", strict=False) for d in dates])


def attachments(con: duckdb.DuckDBPyConnection, cycle_id: str) -> pl.DataFrame:
    """The cycle's documents: submitter, key (upper-cased name), file_name, sha256 (lower hex), bytes."""
    return frame(
        con,
        """SELECT submitter, upper(file_name) AS key, file_name, sha256, bytes, file_id
        FROM portal_attachments WHERE cycle_id = ? ORDER BY file_id""",
        [cycle_id],
    )


def check_document(
    docs: pl.DataFrame, submitter: str, name: str | None, sha: str | None
) -> tuple[dict | None, str, str]:
    """(document row, code, message): the named document must be in the drop with the declared sha256."""
    if not name:
        return None, "", ""
    hit = docs.filter((pl.col("submitter") == submitter) & (pl.col("key") == name.upper()))
    if hit.is_empty():
        return None, "DOCUMENT_MISSING", f"document {name} was not in the drop beside the form"
    doc = hit.row(0, named=True)
    if sha and doc["sha256"].upper() != sha.upper():
        return doc, "SHA256_MISMATCH", f"document {name} has sha256 {doc['sha256']}, the form declares {sha.lower()}"
    return doc, "", ""


def source_path(ctx: PortalContext, submitter: str, name: str) -> Path:
    """A claimed file: still in work/<cycle>/ during the cycle, in archive/<cycle>/ afterwards."""
    work = ctx.home / "work" / ctx.cycle_id / submitter / name
    return work if work.is_file() else ctx.home / "archive" / ctx.cycle_id / submitter / name


def deliver_bytes(ctx: PortalContext, recipient: str, name: str, src: Path, sha256: str) -> dict:
    """Copy a document byte for byte to outbound/<recipient>/<cycle>/NAME (atomic) and list it in the manifest."""
    data = src.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256.lower():
        raise OSError(f"{src.name}: bytes changed since they were claimed (sha256 differs)")
    folder = ctx.home / "outbound" / recipient / ctx.cycle_id
    atomic_write(folder / name, data)
    entry = {"name": name, "layout": DOCUMENT_LAYOUT, "bytes": len(data), "sha256": sha256.lower(), "records": {}}
    merge_manifest(folder, ctx.cycle_id, recipient, [entry])
    return {"recipient": recipient, **entry}


def add_issues(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    if rows:
        insert_frame(con, "submission_issues", pl.DataFrame(rows, schema=ISSUE_COLUMNS))


def issue(
    ctx: PortalContext, file_id: int, line_no: int | None, state: str, kind: str, fld: str, code: str, message: str
) -> dict:
    return {
        "cycle_id": ctx.cycle_id,
        "file_id": file_id,
        "line_no": line_no,
        "state": state,
        "kind": kind,
        "field": fld,
        "code": code,
        "message": message,
    }


def registered_states(con: duckdb.DuckDBPyConnection) -> set[str]:
    ids = {r[0] for r in con.execute("SELECT partner_id FROM partners").fetchall()}
    return {i for i in ids if i in STATE_FIPS}


def _receipt_rows(ctx: PortalContext) -> pl.DataFrame:
    return frame(
        ctx.con,
        """
        SELECT s.state AS party, s.kind AS receipt_kind, coalesce(s.period, '') || '/v' || coalesce(s.version::VARCHAR, '-') AS reference,
               upper(s.status) AS receipt_status, 'OCSE' AS counterpart, NULL AS case_id, l.file_name, l.sha256,
               l.bytes, s.items::BIGINT AS records, i.code,
               coalesce('line ' || i.line_no || ' ', '') || coalesce(nullif('field ' || i.field, 'field ') || ': ', '') || i.message AS message,
               s.file_id AS k1, coalesce(i.line_no, 0) AS k2
        FROM submissions s JOIN file_ledger l USING (file_id)
        LEFT JOIN submission_issues i ON i.file_id = s.file_id AND i.cycle_id = s.cycle_id
        WHERE s.cycle_id = $1
        UNION ALL
        SELECT sender, 'EDE_SENT', exchange_id, upper(status), recipient, case_id, document_file, sha256, bytes, NULL,
               code, message, file_id, line_no FROM ede_exchanges WHERE cycle_id = $1
        UNION ALL
        SELECT recipient, 'EDE_RECEIVED', exchange_id, 'RECEIVED', sender, case_id, delivered_name, sha256, bytes, NULL,
               NULL, exchange_type || ' ' || document_type || coalesce(' ' || request_ref, ''), file_id, line_no
        FROM ede_exchanges WHERE cycle_id = $1 AND status = 'delivered'
        ORDER BY party, k1, k2, receipt_kind, reference, code""",
        [ctx.cycle_id],
    )


def write_receipts(ctx: PortalContext) -> list[dict]:
    """PORTALRCPT.<party>.<cycle>.csv to every party with portal activity in the cycle."""
    rows = _receipt_rows(ctx)
    layout, out = load_layout(RECEIPT_LAYOUT), []
    for (party,), part in rows.group_by("party", maintain_order=True):
        folder = ctx.home / "outbound" / party / ctx.cycle_id
        name = f"PORTALRCPT.{party}.{ctx.cycle_id}.csv"
        data = csv_bytes(layout, part)
        atomic_write(folder / name, data)
        entry = {
            "name": name,
            "layout": RECEIPT_LAYOUT,
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "records": {"PR": part.height},
        }
        merge_manifest(folder, ctx.cycle_id, party, [entry])
        out.append({"recipient": party, **entry})
    return out
