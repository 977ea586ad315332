"""Audit Data Exchange: the annual Data Reliability Audit file (layout dra_file).

Integrity: the file passed layout validation with no rejected record, its trailer count agrees (a
control of the layout), its header names the submitting state; the sha256 of the bytes is recorded.
An accepted upload becomes the next version for (state, audit year), is stored byte for byte under
<home>/portal/dra/<ST>/<year>/v<N>/ for retrieval and delivered to OCSE (outbound/OCSE/<cycle>/); the
state's receipt carries sha256, bytes and record count. Nothing is overwritten.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import polars as pl

from pipeline.files.writer import atomic_write
from pipeline.portal.common import PortalContext, deliver_bytes, issue, source_path
from pipeline.portal.submissions import record
from pipeline.store import frame

KIND, RECIPIENT = "DRA", "OCSE"


def _uploads(ctx: PortalContext) -> pl.DataFrame:
    return frame(
        ctx.con,
        """SELECT l.file_id, l.submitter, l.file_name, l.sha256, l.bytes, l.rejected, l.header_json,
            (SELECT count(*) FROM portal_input p WHERE p.file_id = l.file_id AND p.record_id = 'DD') AS records
        FROM file_ledger l WHERE l.cycle_id = ? AND l.layout = 'dra_file' AND l.status = 'loaded' ORDER BY l.file_id""",
        [ctx.cycle_id],
    )


def _issues(ctx: PortalContext, u: dict, header: dict) -> list[dict]:
    out = []
    if header.get("state") != u["submitter"]:
        out.append(
            issue(
                ctx,
                u["file_id"],
                1,
                u["submitter"],
                KIND,
                "state",
                "DRA_STATE_MISMATCH",
                f"the header names state {header.get('state')}, the file came from {u['submitter']}",
            )
        )
    if u["rejected"]:
        out.append(
            issue(
                ctx,
                u["file_id"],
                None,
                u["submitter"],
                KIND,
                "",
                "DRA_RECORDS_REJECTED",
                f"{u['rejected']} record(s) failed validation; the audit file must be complete",
            )
        )
    return out


def stored_path(home: Path, state: str, year: str, version: int, file_name: str) -> Path:
    return Path(home) / "portal" / "dra" / state / year / f"v{version}" / file_name


def process(ctx: PortalContext) -> int:
    stored = 0
    for u in _uploads(ctx).iter_rows(named=True):
        header = json.loads(u["header_json"] or "{}")
        year = str(header.get("audit_year") or "")
        issues = _issues(ctx, u, header)
        version = record(ctx, u["file_id"], u["submitter"], KIND, year, issues, u["records"])
        path = stored_path(ctx.home, u["submitter"], year, version, u["file_name"]) if version else None
        ctx.con.execute(
            "INSERT INTO dra_uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ctx.cycle_id,
                u["file_id"],
                u["submitter"],
                year,
                version,
                u["file_name"],
                u["sha256"],
                u["bytes"],
                u["records"],
                "stored" if version else "rejected",
                issues[0]["code"] if issues else None,
                issues[0]["message"] if issues else None,
                str(path.relative_to(ctx.home)) if path else None,
            ],
        )
        stored += version is not None
    return stored


def deliver(ctx: PortalContext) -> list[dict]:
    """Store each accepted upload for retrieval and deliver a copy to OCSE (both byte-identical)."""
    out = []
    rows = frame(
        ctx.con, "SELECT * FROM dra_uploads WHERE cycle_id = ? AND status = 'stored' ORDER BY file_id", [ctx.cycle_id]
    )
    for r in rows.iter_rows(named=True):
        src = source_path(ctx, r["state"], r["file_name"])
        dest = ctx.home / r["stored_path"]
        if not (dest.is_file() and _sha(dest) == r["sha256"]):
            atomic_write(dest, src.read_bytes())
        name = f"DRA.{r['state']}.{r['audit_year']}.v{r['version']}.{r['file_name']}"
        out.append(deliver_bytes(ctx, RECIPIENT, name, dest, r["sha256"]))
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(con: duckdb.DuckDBPyConnection, state: str) -> pl.DataFrame:
    return frame(
        con,
        """SELECT audit_year, version, status, cycle_id, file_name, sha256, bytes, records, code, message
        FROM dra_uploads WHERE state = ? ORDER BY audit_year, cycle_id, file_id""",
        [state],
    )


def retrieve(
    con: duckdb.DuckDBPyConnection, home: Path, state: str, year: str, out: Path, version: int | None = None
) -> dict:
    """Copy a stored upload (default: the latest version of the year) to `out` after checking its sha256."""
    from pipeline.portal.common import PortalError

    row = con.execute(
        """SELECT version, stored_path, sha256 FROM dra_uploads WHERE state = ? AND audit_year = ?
        AND status = 'stored' AND (? IS NULL OR version = ?) ORDER BY version DESC LIMIT 1""",
        [state, year, version, version],
    ).fetchone()
    if row is None:
        raise PortalError(f"no stored DRA file for {state} {year}" + (f" version {version}" if version else ""))
    src = Path(home) / row[1]
    if _sha(src) != row[2]:
        raise OSError(f"{src}: stored bytes do not match the recorded sha256")
    shutil.copyfile(src, out)
    return {"state": state, "audit_year": year, "version": row[0], "sha256": row[2], "out": str(out)}
