"""Archive stage: every claimed original moves, byte for byte, to archive/<cycle>/<submitter>/ when it
loaded, or to quarantine/<cycle>/<submitter>/ with FILE.reason.json when it was refused; then the
ledger marks the cycle's files processed. (The cycle is marked done only after its reports: run.py.)"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from pipeline import store
from pipeline.cycle import inbound
from pipeline.cycle.context import CycleContext
from pipeline.cycle.load import CYCLE_CODES
from pipeline.files import errors
from pipeline.safeguards.faults import checkpoint

REASON_ERRORS = 100  # a reason file lists the first errors; the rejects table holds them all


@dataclass
class ArchiveResult:
    archived: int = 0
    quarantined: int = 0


def _reason(con, row: tuple) -> dict:
    file_id, submitter, name, sha, layout, status, records, cycle_id = row
    errs = con.execute(
        f"""SELECT line, record_type, field, code, message, value FROM rejects WHERE file_id = ?
        ORDER BY line, record_type, field, code LIMIT {REASON_ERRORS}""",
        [file_id],
    ).fetchall()
    return {
        "file": name,
        "submitter": submitter,
        "cycle": cycle_id,
        "sha256": sha,
        "layout": layout,
        "status": status,
        "records": records,
        "codes": sorted({e[3] for e in errs}),
        "errors": [dict(zip(("line", "record_type", "field", "code", "message", "value"), e)) for e in errs],
        "explanations": {c: errors.render(c) for c in sorted({e[3] for e in errs}) if c in CYCLE_CODES},
    }


def archive_cycle(ctx: CycleContext) -> ArchiveResult:
    con, home, cycle_id = ctx.con, ctx.home, ctx.cycle_id
    rows = con.execute(
        """SELECT file_id, submitter, file_name, sha256, layout, status, records, cycle_id
        FROM file_ledger WHERE cycle_id = ? ORDER BY file_id""",
        [cycle_id],
    ).fetchall()
    work, result = home / "work" / cycle_id, ArchiveResult()
    for row in rows:
        submitter, name, status = row[1], row[2], row[5]
        if status == "loaded":
            inbound.move_original(work / submitter / name, home / "archive" / cycle_id / submitter)
            result.archived += 1
        else:
            dest = home / "quarantine" / cycle_id / submitter
            inbound.move_original(work / submitter / name, dest)
            inbound.write_reason(dest, name, _reason(con, row))
            result.quarantined += 1
        checkpoint("archive")
    with store.transaction(con):
        con.execute("UPDATE file_ledger SET processed = TRUE WHERE cycle_id = ?", [cycle_id])
    shutil.rmtree(work, ignore_errors=True)
    return result
