"""One nightly cycle: the stages in order (STAGES), under a lock, restartable.

claim → load (validate + store) → FCR (verify, acks) → NDNH (verify, match) → outbound → enforcement →
portal → disclosure log → archive → reports → done (the cycle is marked done, the snapshot published). Each stage is a function of the cycle's context that returns a
small result; the log and the summary show each with its seconds.

Restartable: the cycle row is created before anything is claimed; each stage commits its output with
a marker in `cycle_stages`; a file commits with its ledger row. Rerunning after a crash resumes the
unfinished cycle (same id, same --as-of) and redoes only what did not commit; outbound files are
rewritten from the store, so they come out byte-identical. A lock file keeps two cycles apart.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from pipeline import store
from pipeline.cycle import dropzone, inbound
from pipeline.cycle.archive import archive_cycle
from pipeline.cycle.context import CycleContext, CycleLog, StageRun, result_dict
from pipeline.cycle.disclose import log_cycle_disclosures
from pipeline.cycle.fcr import run_fcr
from pipeline.cycle.inbound import claim_ready_files
from pipeline.cycle.load import load_claimed
from pipeline.cycle.ndnh import NdnhResult, run_ndnh
from pipeline.cycle.outbound import write_outbound
from pipeline.enforcement.run import run_enforcement
from pipeline.engine import Engine, LocalEngine
from pipeline.portal.run import run_portal
from pipeline.safeguards.faults import checkpoint
from pipeline.safeguards.masking import scrub_text
from reports.build import ReportResult, build_reports

POLL_SECONDS = float(os.environ.get("FPLS_POLL_SECONDS", "1.0"))
HOME_DIRS = ("inbound", "work", "archive", "quarantine", "outbound", "reports", "logs")


CycleBusy = store.StoreBusy  # another cycle (or a key rotation) holds the lock, or a reader holds the store
BUSY_WAIT_SECONDS = float(os.environ.get("FPLS_BUSY_WAIT", "5"))  # how long a run waits for readers to let go


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
    stages: dict[str, dict] = field(default_factory=dict)  # name → seconds, cpu_seconds, result

    def to_json(self) -> dict:
        return asdict(self)


def _ndnh(ctx: CycleContext) -> NdnhResult | None:
    try:
        return ctx.committed("ndnh", lambda: run_ndnh(ctx.con, ctx.cycle_id, ctx.as_of, ctx.master, ctx.log.event))
    finally:
        ctx.master = None  # the prepared master is the cycle's largest frame: freed before outbound


def _reports(ctx: CycleContext) -> ReportResult | None:
    """Reports are built into a temp folder and swapped in whole, before the cycle is marked done: a kill or a
    full disk here leaves the cycle unfinished, and the rerun rebuilds them (never a cycle marked done with
    part of its reports). A failure that is not I/O (a report's bug) is logged and does not hold the
    cycle's data back: `fpls report` rebuilds them."""
    try:
        return build_reports(ctx.con, ctx.home, ctx.cycle_id)
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - logged (masked); the cycle's data is durable
        ctx.log.event("reports_failed", error=scrub_text(f"{type(exc).__name__}: {exc}"))
        return None


@dataclass
class DoneResult:
    snapshot: bool = False


def _done(ctx: CycleContext) -> DoneResult:
    """Mark the cycle done, then publish the store's read-only snapshot for operators' queries during the
    next cycle (a failed copy keeps the previous snapshot, which says which cycle it holds)."""
    with store.transaction(ctx.con):
        ctx.con.execute("UPDATE cycles SET status = 'done' WHERE cycle_id = ?", [ctx.cycle_id])
    checkpoint("done")
    try:
        store.publish_snapshot(ctx.con, ctx.home, store.DB_NAME)
    except OSError as exc:
        ctx.log.event("snapshot_failed", error=scrub_text(f"{type(exc).__name__}: {exc}"))
        return DoneResult(False)
    return DoneResult(True)


STAGES: tuple[tuple[str, Callable[[CycleContext], object]], ...] = (
    ("claim", claim_ready_files),
    ("load", load_claimed),
    ("fcr", lambda ctx: ctx.committed("fcr", lambda: run_fcr(ctx.con, ctx.cycle_id, ctx.master))),
    ("ndnh", _ndnh),
    ("outbound", lambda ctx: write_outbound(ctx.con, ctx.home, ctx.cycle_id, ctx.as_of)),
    # adds to manifests; the debtor linkage's pair comparison runs on the cycle's engine
    ("enforcement", lambda ctx: run_enforcement(ctx.con, ctx.home, ctx.cycle_id, ctx.as_of, ctx.engine)),
    ("portal", lambda ctx: run_portal(ctx.con, ctx.home, ctx.cycle_id, ctx.as_of)),  # reads documents in work/
    ("disclosure", lambda ctx: log_cycle_disclosures(ctx.con, ctx.home, ctx.cycle_id)),
    ("archive", archive_cycle),
    ("reports", _reports),
    ("done", _done),
)


cycle_lock = store.home_lock


def _connect_writer(home: Path):
    """The store read-write; an operator's query may hold it for a moment, so wait a little, then busy."""
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    while True:
        try:
            return store.connect(home)
        except store.StoreBusy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def _open_cycle(con: duckdb.DuckDBPyConnection, home: Path, as_of: date | None) -> tuple[str, date, bool] | None:
    row = con.execute("SELECT cycle_id, as_of FROM cycles WHERE status <> 'done' ORDER BY cycle_id LIMIT 1").fetchone()
    if row:
        return row[0], row[1], True
    if not inbound.claimable(home, POLL_SECONDS):
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


def give_back_lost_claims(con: duckdb.DuckDBPyConnection, home: Path) -> list[str]:
    """Files in work/ that no unfinished cycle of the store owns (the store was restored from a backup taken
    before they were claimed, or their cycle never reached the store) go back to inbound/ with a `.done`
    marker, so the next cycle takes them; nothing stays in work/ forever."""
    work = home / "work"
    if not work.is_dir():
        return []
    status = dict(con.execute("SELECT cycle_id, status FROM cycles").fetchall())
    moved = []
    for folder in sorted(p for p in work.iterdir() if p.is_dir() and not p.is_symlink()):
        if status.get(folder.name, "done") != "done":
            continue  # the unfinished cycle resumes with them
        known = set(
            con.execute("SELECT submitter, file_name FROM file_ledger WHERE cycle_id = ?", [folder.name]).fetchall()
        )
        moved += dropzone.give_back(folder, home / "inbound", known)
    return moved


def partner_table(con, cycle_id: str) -> list[dict]:
    """Per partner: files, records, rejected, matches (FN), responses (outbound data records)."""
    rows = con.execute(
        """
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
        [cycle_id],
    ).fetchall()
    keys = ("partner", "files", "records", "rejected", "files_refused", "matches", "acks", "fn", "ft")
    return [dict(zip(keys, (int(v) if isinstance(v, (int, float)) else v for v in r))) for r in rows]


def _summary(ctx: CycleContext, resumed: bool, results: dict[str, object], runs: dict[str, StageRun]) -> CycleSummary:
    files = [
        dict(zip(("submitter", "file", "layout", "status", "records", "accepted", "rejected", "codes"), r))
        for r in ctx.con.execute(
            """SELECT submitter, file_name, layout, status, records, accepted, rejected,
                 reason_codes FROM file_ledger WHERE cycle_id = ? ORDER BY file_id""",
            [ctx.cycle_id],
        ).fetchall()
    ]
    outbound = results["outbound"]
    return CycleSummary(
        ctx.cycle_id,
        ctx.as_of.isoformat(),
        resumed,
        files,
        partner_table(ctx.con, ctx.cycle_id),
        result_dict(results["fcr"]),
        result_dict(results["ndnh"]),
        outbound.files,
        {name: asdict(run) for name, run in runs.items()},
    )


def _drop_scratch(scratch: Path) -> None:
    """The cycle's Spark scratch folders, emptied stage by stage, go once the cycle is done."""
    for folder in (scratch, scratch.parent):
        try:
            folder.rmdir()
        except OSError:
            return  # absent (the embedded engine) or not empty (another unfinished cycle's)


def ensure_home(home: Path) -> None:
    for d in HOME_DIRS:
        (home / d).mkdir(parents=True, exist_ok=True)


def run_cycle(
    home: Path, as_of: date | None = None, progress=None, engine: Engine | None = None
) -> CycleSummary | None:
    """Run (or resume) one cycle. None when nothing is ready and no cycle is unfinished. `progress(kind, done,
    total, label)` hears of each stage and each file loaded (the CLI's terminal display). `engine` runs the
    matching kernels (pipeline.engine; the embedded one by default)."""
    home = Path(home)
    ensure_home(home)
    with cycle_lock(home):
        con = _connect_writer(home)
        try:
            given_back = give_back_lost_claims(con, home)
            opened = _open_cycle(con, home, as_of)
            if opened is None:
                return None
            cycle_id, as_of, resumed = opened
            ctx = CycleContext(
                con,
                home,
                cycle_id,
                as_of,
                CycleLog(home, cycle_id),
                POLL_SECONDS,
                progress=progress,
                engine=engine or LocalEngine(),
            )
            ctx.log.event("cycle_start", cycle=cycle_id, as_of=as_of, resumed=resumed)
            if given_back:
                ctx.log.event("given_back_to_inbound", files=given_back)
            started, results, runs = time.monotonic(), {}, {}
            for i, (name, stage) in enumerate(STAGES):
                ctx.report("stage", i, len(STAGES), name)
                results[name], runs[name] = ctx.timed(name, stage)
            ctx.report("stage", len(STAGES), len(STAGES), "done")
            _drop_scratch(ctx.spark_scratch)
            summary = _summary(ctx, resumed, results, runs)
            ctx.log.event("cycle_done", seconds=round(time.monotonic() - started, 2), partners=summary.partners)
            return summary
        finally:
            con.close()


def watch(
    home: Path, as_of: date | None, interval: float, on_cycle, on_busy=None, engine: Engine | None = None
) -> None:
    """Keep polling inbound/ and run a cycle whenever files are ready (Ctrl-C stops). A busy store (an
    operator's query or report holds it, a key rotation runs) is no reason to stop: try again next poll."""
    while True:
        try:
            summary = run_cycle(home, as_of, engine=engine)
        except CycleBusy as exc:
            summary = None
            if on_busy is not None:
                on_busy(exc)
        if summary is not None:
            on_cycle(summary)
        time.sleep(interval)
