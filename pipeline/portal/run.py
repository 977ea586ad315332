"""Child Support Portal exchanges in the cycle: IRG profiles, EDE documents, DRA files, State Plan,
Self-Assessment and Access & Visitation submissions (issue 10). The one entry point for the cycle.

How the cycle calls this module (the lead wires it; nothing here edits load.py / cycle.py):

1. `pipeline/cycle/load.py`, `_Sink.__call__`: a layout in PORTAL_LAYOUTS hands its accepted typed records to
   `load_portal_file(con, layout_name, record_id, frame, file_id, cycle_id, submitter)`, which stages
   them in `portal_input` inside the file's transaction (rolled back with it if the file is rejected).
2. `pipeline/cycle/run.py`, `_load`: before `load_file`, `load_attachment(con, cycle_id, path)` takes a
   document (PDF, any bytes) named by an EDE manifest or a state-plan form dropped in the same folder:
   it writes the file's ledger row (layout `portal_document`, status loaded) so the file is archived,
   acknowledged and never quarantined as an unknown type. It returns None for every other file.
3. `pipeline/cycle/run.py`, `run_cycle`: `run_portal(con, home, cycle_id, as_of)` after `run_enforcement`
   (manifests are merged, so after `write_outbound`, which rewrites them) and before the disclosure and
   archive stages (the documents are still in work/<cycle>/). Idempotent: a resumed cycle recomputes the
   cycle's portal rows and rewrites the same bytes, so it is called on every run, not as a `_stage`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import duckdb
import polars as pl

from pipeline.files.lines import first_overlong_line
from pipeline.files.read import detect_layout, max_line_bytes, read_csv_text
from pipeline.portal import dra, ede, irg, submissions
from pipeline.portal.common import PortalContext, write_receipts
from pipeline.store import insert_frame, transaction

DOCUMENT_LAYOUT = "portal_document"
PORTAL_LAYOUTS = frozenset(
    {"irg_profile_csv", "ede_manifest_csv", "dra_file", "state_plan_csv", "self_assessment_csv", "av_survey_csv"}
)
# Forms that name documents dropped beside them, and the column that names them.
ATTACHING = {"ede_manifest_csv": "document_file", "state_plan_csv": "attachment_file"}


@dataclass
class PortalResult:
    irg_versions: int = 0
    ede_delivered: int = 0
    ede_rejected: int = 0
    dra_stored: int = 0
    submissions: dict[str, int] = field(default_factory=dict)
    receipts: list[dict] = field(default_factory=list)


@dataclass
class AttachmentOutcome:
    """The fields of pipeline.cycle.load.FileOutcome the cycle logs, for a document."""

    file_id: int
    submitter: str
    file_name: str
    sha256: str
    layout: str = DOCUMENT_LAYOUT
    status: str = "loaded"
    records: int = 0
    accepted: int = 0
    rejected: int = 0
    codes: list[str] = field(default_factory=list)


def load_portal_file(
    con: duckdb.DuckDBPyConnection,
    layout_name: str,
    record_id: str,
    frame: pl.DataFrame,
    file_id: int,
    cycle_id: str,
    submitter: str,
) -> int:
    """Stage one batch of accepted typed records of a portal file (vectorised: one JSON per row)."""
    data = frame.drop(["cycle_id", "file_id", "line_no", "record_id"], strict=False)
    rows = frame.select(pl.col("line_no").cast(pl.Int64)).with_columns(
        pl.lit(cycle_id).alias("cycle_id"),
        pl.lit(file_id, dtype=pl.Int32).alias("file_id"),
        pl.lit(submitter).alias("submitter"),
        pl.lit(layout_name).alias("layout"),
        pl.lit(record_id).alias("record_id"),
        data.select(pl.struct(pl.all()).struct.json_encode().alias("row_json")).to_series(),
    )
    return insert_frame(con, "portal_input", rows)


def named_attachments(folder: Path) -> frozenset[str]:
    """Upper-cased file names that the EDE manifests / state-plan forms in `folder` name (cached per
    folder listing: the cycle asks once per claimed file)."""
    listing = tuple(sorted((p.name, p.stat().st_size) for p in folder.iterdir() if p.is_file()))
    return _named(str(folder), listing)


@lru_cache(maxsize=64)
def _named(folder_name: str, listing: tuple[tuple[str, int], ...]) -> frozenset[str]:
    folder, names = Path(folder_name), set()
    for path in (folder / name for name, size in listing if size):
        layout = detect_layout(path, direction="inbound")
        if layout is None or layout.name not in ATTACHING:
            continue
        column = next(f.column.lower() for f in layout.records[0].fields if f.name == ATTACHING[layout.name])
        if first_overlong_line(path, max_line_bytes(layout)) is not None:
            continue  # never read whole: the form itself is refused as LINE_TOO_LONG
        text = read_csv_text(path)
        if column in text.columns:
            names |= {str(v).strip().upper() for v in text[column].drop_nulls() if str(v).strip()}
    return frozenset(names)


def is_attachment(path: Path) -> bool:
    """A document named by a portal form in the same claimed folder (and not itself a layout file)."""
    return path.name.upper() in named_attachments(path.parent) and (
        path.stat().st_size == 0 or detect_layout(path, direction="inbound") is None
    )


def load_attachment(con: duckdb.DuckDBPyConnection, cycle_id: str, path: Path) -> AttachmentOutcome | None:
    """Ledger a claimed document (work/<cycle>/<submitter>/FILE) named by a portal form; else None."""
    if not is_attachment(path):
        return None
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    with transaction(con):
        file_id = int(con.execute("SELECT coalesce(max(file_id), 0) + 1 FROM file_ledger").fetchone()[0])
        out = AttachmentOutcome(file_id, path.parent.name, path.name, sha)
        con.execute(
            """INSERT INTO file_ledger (file_id, cycle_id, submitter, file_name, sha256, bytes, layout, status, records,
            accepted, rejected, reason_codes, duplicate_of, header_json, processed)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'loaded', 0, 0, 0, [], NULL, '{}', FALSE)""",
            [file_id, cycle_id, out.submitter, out.file_name, sha, len(data), DOCUMENT_LAYOUT],
        )
        con.execute(
            "INSERT INTO portal_attachments VALUES (?, ?, ?, ?, ?, ?)",
            [cycle_id, file_id, out.submitter, out.file_name, sha, len(data)],
        )
    return out


def run_portal(con: duckdb.DuckDBPyConnection, home: Path, cycle_id: str, as_of: date) -> PortalResult:
    """Process the cycle's staged portal submissions: versions, statuses, deliveries, receipts."""
    ctx = PortalContext(con, Path(home), cycle_id, as_of)
    result = PortalResult()
    with transaction(con):
        submissions.clear_cycle(con, cycle_id)
        result.irg_versions = irg.process(ctx)
        result.ede_delivered, result.ede_rejected = ede.process(ctx)
        result.dra_stored = dra.process(ctx)
        result.submissions = submissions.process(ctx)
    ede.deliver(ctx)
    dra.deliver(ctx)
    result.receipts = write_receipts(ctx)
    return result
