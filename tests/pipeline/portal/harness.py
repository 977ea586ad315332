"""Drive the portal stage functions the way the cycle will once the lead wires them (see pipeline/portal/run.py):
claim files into work/<cycle>/<ST>/, ledger documents with load_attachment, validate + stage forms with
load_portal_file (one transaction per file, ledger row + rejects), then run_portal."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

from pipeline import store
from pipeline.cycle.load import (
    FileOutcome,
    LoadContext,
    _apply_validation,
    _record_ledger,
    next_file_id,
)
from pipeline.files.layouts import load_layout
from pipeline.files.read import detect_layout
from pipeline.files.validate import validate_file
from pipeline.portal.run import (
    PORTAL_LAYOUTS,
    load_attachment,
    load_portal_file,
    run_portal,
)

STATES = ("KS", "MO", "OK")


def home_with_store(tmp: Path):
    con = store.connect(tmp)
    for st in STATES:
        con.execute("INSERT INTO partners VALUES (?, 'state', [])", [st])
    return con


def _sink(con, outcome, layout, cycle_id):
    def sink(record_id, frame):
        if layout.header and record_id == layout.header.id:
            outcome.header = {k: v for k, v in frame.row(0, named=True).items() if k != "line_no"}
            return
        if layout.trailer_record and record_id == layout.trailer_record.id:
            return
        load_portal_file(con, layout.name, record_id, frame, outcome.file_id, cycle_id, outcome.submitter)

    return sink


def load_one(con, cycle_id: str, path: Path):
    doc = load_attachment(con, cycle_id, path)
    if doc is not None:
        return doc
    outcome = FileOutcome(next_file_id(con), path.parent.name, path.name, hashlib.sha256(path.read_bytes()).hexdigest())
    layout = detect_layout(path, direction="inbound")
    assert layout is not None and layout.name in PORTAL_LAYOUTS, path.name
    outcome.layout = layout.name
    ctx = LoadContext(con, cycle_id, date(2026, 1, 1), {})
    with store.transaction(con):
        result = validate_file(path, layout, sink=_sink(con, outcome, layout, cycle_id))
        _apply_validation(outcome, result)
        if outcome.status != "loaded":
            con.execute("ROLLBACK")
            con.execute("BEGIN TRANSACTION")
        _record_ledger(ctx, outcome, path.stat().st_size, result)
    return outcome


def run(con, home: Path, as_of: date, drops: dict[str, dict[str, bytes]], seq: int = 1):
    """drops: {submitter: {file name: bytes}} → (cycle id, PortalResult, outcomes)."""
    cycle_id = f"{as_of:%Y%m%d}-{seq:02d}"
    con.execute("INSERT INTO cycles VALUES (?, ?, ?, 'running')", [cycle_id, as_of, seq])
    outcomes = []
    for sub, files in sorted(drops.items()):
        folder = home / "work" / cycle_id / sub
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        for path in sorted(folder.iterdir()):
            outcomes.append(load_one(con, cycle_id, path))
    result = run_portal(con, home, cycle_id, as_of)
    for sub in drops:  # archive as the cycle does
        src = home / "work" / cycle_id / sub
        dest = home / "archive" / cycle_id / sub
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(src, dest)
    con.execute("UPDATE cycles SET status = 'done' WHERE cycle_id = ?", [cycle_id])
    return cycle_id, result, outcomes


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def receipt(home: Path, party: str, cycle_id: str) -> str:
    return (home / "outbound" / party / cycle_id / f"PORTALRCPT.{party}.{cycle_id}.csv").read_text()


def manifest(home: Path, party: str, cycle_id: str) -> dict:
    return json.loads((home / "outbound" / party / cycle_id / "manifest.json").read_text())


def csv(header: str, *rows: str) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def layout_columns(name: str) -> str:
    return ",".join(f.column for f in load_layout(name).records[-1].fields if f.kept)
