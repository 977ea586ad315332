"""One nightly cycle: claim → validate+load → FCR (verify, acks) → NDNH (verify, match) → outbound → archive.

Restartable: the cycle row is created before anything is claimed; each stage commits its output with
a marker in `cycle_stages`; a file commits with its ledger row. Rerunning after a crash resumes the
unfinished cycle (same id, same --as-of) and redoes only what did not commit; outbound files are
rewritten from the store, so they come out byte-identical. A lock file keeps two cycles apart.
"""
from __future__ import annotations

import fcntl
import json
import os
import resource
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from pipeline import errors, inbound, store
from pipeline.disclosure import log_cycle_disclosures
from pipeline.enforcement import run_enforcement
from pipeline.faults import checkpoint
from pipeline.fcr import FcrResult, run_fcr
from pipeline.load import CYCLE_CODES, LoadContext, load_file
from pipeline.ndnh import NdnhResult, run_ndnh
from pipeline.outbound import write_outbound
from pipeline.pii import scrub_text
from pipeline.portal import load_attachment, run_portal
from pipeline.ssnverify import MasterRef
from reports.build import build_reports

POLL_SECONDS = float(os.environ.get("FPLS_POLL_SECONDS", "1.0"))
HOME_DIRS = ("inbound", "work", "archive", "quarantine", "outbound", "reports", "logs")


class CycleBusy(RuntimeError):
    """Another cycle holds the lock."""


@dataclass
class CycleSummary:
    cycle_id: str
    as_of: str
    resumed: bool = False
    files: list[dict] = field(default_factory=list)
    partners: list[dict] = field(default_factory=list)
    fcr: dict = field(default_factory=dict)
    ndnh: dict = field(default_factory=dict)
    outbound: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


class CycleLog:
    """logs/<cycle>.jsonl: one JSON object per event, SSN-shaped text masked."""

    def __init__(self, home: Path, cycle_id: str):
        self.path = home / "logs" / f"{cycle_id}.jsonl"

    def event(self, name: str, **data) -> None:
        row = {"ts": datetime.now(timezone.utc).isoformat(timespec="seconds"), "event": name, **data}
        with self.path.open("a") as fh:
            fh.write(scrub_text(json.dumps(row, default=str, sort_keys=True)) + "\n")


@contextmanager
def cycle_lock(home: Path):
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / "fpls.lock", os.O_RDWR | os.O_CREAT, 0o640)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise CycleBusy(f"another cycle holds {home / 'fpls.lock'}") from exc
        yield
    finally:
        os.close(fd)


def _open_cycle(con: duckdb.DuckDBPyConnection, home: Path, as_of: date | None) -> tuple[str, date, bool] | None:
    row = con.execute("SELECT cycle_id, as_of FROM cycles WHERE status <> 'done' ORDER BY cycle_id LIMIT 1").fetchone()
    if row:
        return row[0], row[1], True
    if not inbound.ready_files(home / "inbound", POLL_SECONDS):
        return None
    as_of = as_of or date.today()
    seq = con.execute("SELECT count(*) + 1 FROM cycles WHERE as_of = ?", [as_of]).fetchone()[0]
    cycle_id = f"{as_of:%Y%m%d}-{seq:02d}"
    partners = inbound.load_partners(home)
    with store.transaction(con):
        con.execute("INSERT INTO cycles VALUES (?, ?, ?, 'running')", [cycle_id, as_of, seq])
        con.execute("DELETE FROM partners")
        for p in sorted(partners.values(), key=lambda p: p.id):
            con.execute("INSERT INTO partners VALUES (?, ?, ?)", [p.id, p.kind, list(p.file_types)])
    return cycle_id, as_of, False


def _stage(con: duckdb.DuckDBPyConnection, cycle_id: str, name: str, fn):
    """Run fn() and the stage marker in one transaction, unless the stage already committed."""
    if store.stage_done(con, cycle_id, name):
        return None
    with store.transaction(con):
        out = fn()
        checkpoint(name)
        store.mark_stage(con, cycle_id, name)
    return out


def _timed(log: "CycleLog", name: str, fn):
    """Run fn() and log the stage's wall / CPU seconds and the process's peak RSS so far (profiling)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    log.event("stage", stage=name, seconds=round(time.perf_counter() - wall, 2), cpu_seconds=round(time.process_time() - cpu, 2),
              peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    return out


def _claim(con, home: Path, cycle_id: str, log: CycleLog) -> None:
    if store.stage_done(con, cycle_id, "claim"):
        return
    files = inbound.claim(inbound.ready_files(home / "inbound", POLL_SECONDS), home / "work" / cycle_id)
    log.event("claimed", files=[f"{p.parent.name}/{p.name}" for p in files])
    with store.transaction(con):
        store.mark_stage(con, cycle_id, "claim")


def _load(con, home: Path, cycle_id: str, as_of: date, log: CycleLog) -> None:
    ctx = LoadContext(con, cycle_id, as_of, inbound.load_partners(home))
    done = {(r[0], r[1]) for r in con.execute(
        "SELECT submitter, file_name FROM file_ledger WHERE cycle_id = ?", [cycle_id]).fetchall()}
    for path in inbound.work_files(home / "work" / cycle_id):
        if (path.parent.name, path.name) in done:
            continue
        outcome = load_attachment(con, cycle_id, path) or load_file(ctx, path)  # EDE / state-plan documents
        log.event("file", submitter=outcome.submitter, file=outcome.file_name, layout=outcome.layout,
                  status=outcome.status, records=outcome.records, accepted=outcome.accepted,
                  rejected=outcome.rejected, codes=outcome.codes)


def _reason(con, row: tuple) -> dict:
    file_id, submitter, name, sha, layout, status, records, cycle_id = row
    errs = con.execute("""SELECT line, record_type, field, code, message, value FROM rejects WHERE file_id = ?
        ORDER BY line, record_type, field, code LIMIT 100""", [file_id]).fetchall()
    return {"file": name, "submitter": submitter, "cycle": cycle_id, "sha256": sha, "layout": layout,
            "status": status, "records": records,
            "codes": sorted({e[3] for e in errs}),
            "errors": [dict(zip(("line", "record_type", "field", "code", "message", "value"), e)) for e in errs],
            "explanations": {c: errors.render(c) for c in sorted({e[3] for e in errs}) if c in CYCLE_CODES}}


def _archive(con, home: Path, cycle_id: str) -> None:
    rows = con.execute("""SELECT file_id, submitter, file_name, sha256, layout, status, records, cycle_id
        FROM file_ledger WHERE cycle_id = ? ORDER BY file_id""", [cycle_id]).fetchall()
    work = home / "work" / cycle_id
    for row in rows:
        submitter, name, status = row[1], row[2], row[5]
        if status == "loaded":
            inbound.move_original(work / submitter / name, home / "archive" / cycle_id / submitter)
        else:
            dest = home / "quarantine" / cycle_id / submitter
            inbound.move_original(work / submitter / name, dest)
            inbound.write_reason(dest, name, _reason(con, row))
        checkpoint("archive")
    with store.transaction(con):
        con.execute("UPDATE file_ledger SET processed = TRUE WHERE cycle_id = ?", [cycle_id])
        con.execute("UPDATE cycles SET status = 'done' WHERE cycle_id = ?", [cycle_id])
    shutil.rmtree(work, ignore_errors=True)


def partner_table(con, cycle_id: str) -> list[dict]:
    """Per partner: files, records, rejected, matches (FN), responses (outbound data records)."""
    rows = con.execute("""
        WITH f AS (SELECT submitter AS partner, count(*) AS files, sum(records) AS records, sum(rejected) AS rejected,
                          count(*) FILTER (WHERE status <> 'loaded') AS files_refused
                   FROM file_ledger WHERE cycle_id = $1 GROUP BY 1),
        m AS (SELECT state AS partner, count(*) FILTER (WHERE ndnh_id IS NOT NULL) AS matches, count(*) AS fn
              FROM matches WHERE cycle_id = $1 GROUP BY 1),
        a AS (SELECT state AS partner, count(*) AS acks FROM (SELECT state FROM ack_fd WHERE cycle_id = $1
              UNION ALL SELECT state FROM ack_fs WHERE cycle_id = $1) GROUP BY 1),
        t AS (SELECT state AS partner, count(*) AS ft FROM ft_out WHERE cycle_id = $1 GROUP BY 1)
        SELECT partner, coalesce(files, 0), coalesce(records, 0), coalesce(rejected, 0), coalesce(files_refused, 0),
               coalesce(matches, 0), coalesce(acks, 0), coalesce(fn, 0), coalesce(ft, 0)
        FROM f FULL JOIN m USING (partner) FULL JOIN a USING (partner) FULL JOIN t USING (partner) ORDER BY partner""",
                       [cycle_id]).fetchall()
    keys = ("partner", "files", "records", "rejected", "files_refused", "matches", "acks", "fn", "ft")
    return [dict(zip(keys, (int(v) if isinstance(v, (int, float)) else v for v in r))) for r in rows]


def _summary(con, cycle_id: str, as_of: date, resumed: bool, fcr: FcrResult | None, ndnh: NdnhResult | None,
             outbound: list[dict]) -> CycleSummary:
    files = [dict(zip(("submitter", "file", "layout", "status", "records", "accepted", "rejected", "codes"), r))
             for r in con.execute("""SELECT submitter, file_name, layout, status, records, accepted, rejected, reason_codes
                 FROM file_ledger WHERE cycle_id = ? ORDER BY file_id""", [cycle_id]).fetchall()]
    return CycleSummary(cycle_id, as_of.isoformat(), resumed, files, partner_table(con, cycle_id),
                        asdict(fcr) if fcr else {}, asdict(ndnh) if ndnh else {}, outbound)


def ensure_home(home: Path) -> None:
    for d in HOME_DIRS:
        (home / d).mkdir(parents=True, exist_ok=True)


def _build_reports(con, home: Path, cycle_id: str, log: CycleLog) -> None:
    """Reports come last and never fail a cycle whose data is already durable: `fpls report` rebuilds them."""
    try:
        built = _timed(log, "reports", lambda: build_reports(con, home, cycle_id))
        log.event("reports", directory=str(built.directory), not_available=built.not_available)
    except Exception as exc:  # noqa: BLE001 - logged (masked) and reported; the cycle itself succeeded
        log.event("reports_failed", error=scrub_text(f"{type(exc).__name__}: {exc}"))


def run_cycle(home: Path, as_of: date | None = None) -> CycleSummary | None:
    """Run (or resume) one cycle. None when nothing is ready and no cycle is unfinished."""
    home = Path(home)
    ensure_home(home)
    with cycle_lock(home):
        con = store.connect(home)
        try:
            opened = _open_cycle(con, home, as_of)
            if opened is None:
                return None
            cycle_id, as_of, resumed = opened
            log = CycleLog(home, cycle_id)
            log.event("cycle_start", cycle=cycle_id, as_of=as_of, resumed=resumed)
            started = time.monotonic()
            _timed(log, "claim", lambda: _claim(con, home, cycle_id, log))
            _timed(log, "load", lambda: _load(con, home, cycle_id, as_of, log))
            master = MasterRef(con)          # prepared once, shared by the FCR and NDNH stages
            fcr = _timed(log, "fcr", lambda: _stage(con, cycle_id, "fcr", lambda: run_fcr(con, cycle_id, master)))
            ndnh = _timed(log, "ndnh", lambda: _stage(con, cycle_id, "ndnh", lambda: run_ndnh(con, cycle_id, as_of, master)))
            del master
            out = _timed(log, "outbound", lambda: write_outbound(con, home, cycle_id, as_of))
            _timed(log, "enforcement", lambda: run_enforcement(con, home, cycle_id, as_of))  # adds to the manifests
            _timed(log, "portal", lambda: run_portal(con, home, cycle_id, as_of))  # reads documents in work/
            _timed(log, "disclosure", lambda: log_cycle_disclosures(con, home, cycle_id))
            _timed(log, "archive", lambda: _archive(con, home, cycle_id))
            _build_reports(con, home, cycle_id, log)
            summary = _summary(con, cycle_id, as_of, resumed, fcr, ndnh, out.files)
            log.event("cycle_done", seconds=round(time.monotonic() - started, 2), partners=summary.partners)
            return summary
        finally:
            con.close()


def watch(home: Path, as_of: date | None, interval: float, on_cycle) -> None:
    """Keep polling inbound/ and run a cycle whenever files are ready (Ctrl-C stops)."""
    while True:
        summary = run_cycle(home, as_of)
        if summary is not None:
            on_cycle(summary)
        time.sleep(interval)
