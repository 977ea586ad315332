"""What every stage of one cycle shares: the store connection, the home, the cycle id and date, the
structured log, and the SSA master prepared once for the FCR and NDNH stages."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

import duckdb

from pipeline import store
from pipeline.cycle.ssnverify import MasterRef
from pipeline.engine import Engine, LocalEngine
from pipeline.safeguards.faults import checkpoint
from pipeline.safeguards.masking import json_line

T = TypeVar("T")


class CycleLog:
    """logs/<cycle>.jsonl: one JSON object per event, SSN-shaped text masked in its strings (numbers stay numbers)."""

    def __init__(self, home: Path, cycle_id: str):
        self.path = home / "logs" / f"{cycle_id}.jsonl"

    def event(self, name: str, **data) -> None:
        row = {"ts": datetime.now(UTC).isoformat(timespec="seconds"), "event": name, **data}
        with self.path.open("a") as fh:
            fh.write(json_line(row) + "\n")


@dataclass
class StageRun:
    """One stage's result as the summary shows it: seconds, CPU seconds, and the stage's own result."""

    seconds: float
    cpu_seconds: float
    result: dict = field(default_factory=dict)


@dataclass
class CycleContext:
    con: duckdb.DuckDBPyConnection
    home: Path
    cycle_id: str
    as_of: date
    log: CycleLog
    poll_seconds: float = 1.0  # how long a file must be stable to be ready (without .done)
    master: MasterRef | None = None  # prepared once, shared by the FCR and NDNH stages, then dropped
    progress: Callable[..., None] | None = None  # progress(kind, done, total, label): the CLI's display, if any
    engine: Engine = field(default_factory=LocalEngine)  # where the heavy kernels run (`fpls run --engine`)

    def report(self, kind: str, done: int, total: int, label: str = "") -> None:
        """Tell the progress display (a terminal's, `fpls run`) where the cycle is; nothing without one."""
        if self.progress is not None:
            self.progress(kind, done, total, label)

    def __post_init__(self) -> None:
        self.engine = self.engine.bound(self.spark_scratch, self.home / "logs" / f"{self.cycle_id}.engine.jsonl")
        self.master = MasterRef(self.con, self.engine)

    @property
    def spark_scratch(self) -> Path:
        """Where a distributed engine exchanges this cycle's Parquet (SSNs: removed as each stage finishes)."""
        return self.home / "spark" / self.cycle_id

    def timed(self, name: str, stage: Callable[[CycleContext], T]) -> tuple[T, StageRun]:
        """Run one stage; log its wall / CPU seconds, the process's peak RSS so far and its result."""
        wall, cpu = time.perf_counter(), time.process_time()
        out = stage(self)
        run = StageRun(round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2), result_dict(out))
        self.log.event(
            "stage",
            stage=name,
            seconds=run.seconds,
            cpu_seconds=run.cpu_seconds,
            peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            result=run.result,
        )
        return out, run

    def committed(self, name: str, fn: Callable[[], T]) -> T | None:
        """Run fn() and the stage marker in one transaction, unless the stage already committed (then None)."""
        if store.stage_done(self.con, self.cycle_id, name):
            return None
        with store.transaction(self.con):
            out = fn()
            checkpoint(name)
            store.mark_stage(self.con, self.cycle_id, name)
        return out


def result_dict(result: object) -> dict:
    return asdict(result) if is_dataclass(result) else {}
