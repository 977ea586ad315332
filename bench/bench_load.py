"""Load-stage profile: where each second of the cycle's load stage goes, per file type, against a bare
DuckDB load of the same files' raw lines into one table, in the same process and run.

    python -m bench.bench_load --home /tmp/h200k.pristine [--persons 200000] --runs 3 [--append]

HOME is a generated home (`fpls generate --persons N --states KS,MO,OK,TX --seed 1 --as-of 2026-11-02 --out
HOME`; with --persons the script makes it when it is missing), copied afresh for every run. Each run is a child
process that claims the inbound files as a cycle does, then:
- bare: one DuckDB file, one table `raw(line VARCHAR)`, one `INSERT ... SELECT * FROM read_csv([...])` of
  every claimed file's lines (a separator byte no file holds, no quoting), committed;
- load: the cycle's load stage (`pipeline.cycle.load.load_claimed`) into the store, with timers wrapped
  around its parts (exclusive seconds: a part's time excludes the parts it calls).
The table gives the median over the runs of each cell, and the ratio load / bare of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = (
    ("precheck", "detect layout, partner, duplicate checks"),
    ("lines", "read lines / compiled scan (C) incl. typing of clean rows"),
    ("line_checks", "line classification + line rejects"),
    ("controls", "trailer control tallies"),
    ("records", "slice + pandera/typing of rows not scanned"),
    ("merge", "merging scanned and checked rows, counts"),
    ("csv", "CSV read"),
    ("sink", "sink: frame work before the insert (meta columns, ids)"),
    ("insert", "DuckDB inserts of accepted rows"),
    ("qw_update", "QW employer UPDATE"),
    ("ledger", "ledger + rejects rows"),
    ("commit", "COMMIT of the file's transaction (or of the one small files share)"),
    ("other", "everything else in load_file / the stage loop"),
)


class Clock:
    """Exclusive timers: a part's seconds exclude those of the parts it calls."""

    def __init__(self):
        self.stack: list[list] = []  # [part, start, cpu start, child seconds, child cpu seconds]
        self.file: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    def enter(self, part: str) -> None:
        self.stack.append([part, time.perf_counter(), time.process_time(), 0.0, 0.0])

    def leave(self) -> None:
        part, start, cpu_start, inner, inner_cpu = self.stack.pop()
        spent, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        self.file[part] += spent - inner
        self.cpu[part] += cpu - inner_cpu
        if self.stack:
            self.stack[-1][3] += spent
            self.stack[-1][4] += cpu


CLOCK = Clock()


def _timed(fn, part: str):
    def wrapper(*args, **kwargs):
        CLOCK.enter(part)
        try:
            return fn(*args, **kwargs)
        finally:
            CLOCK.leave()

    wrapper.__wrapped__ = fn
    return wrapper


def _timed_iter(fn, part: str):
    def wrapper(*args, **kwargs):
        it = iter(fn(*args, **kwargs))
        while True:
            CLOCK.enter(part)
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                CLOCK.leave()
            yield item

    return wrapper


def _patch(targets: dict[str, tuple[str, bool]]) -> None:
    """Replace every module-level binding of each target function (by identity) with a timed wrapper."""
    import importlib

    originals = {}
    for dotted, (part, generator) in targets.items():
        mod, _, name = dotted.rpartition(".")
        fn = getattr(importlib.import_module(mod), name)
        originals[id(fn)] = (fn, (_timed_iter if generator else _timed)(fn, part))
    for module in list(sys.modules.values()):
        if not getattr(module, "__name__", "").startswith(("pipeline", "reports", "matchers")):
            continue
        for attr, value in list(vars(module).items()):
            if callable(value) and id(value) in originals and originals[id(value)][0] is value:
                setattr(module, attr, originals[id(value)][1])


def _instrument() -> None:
    import pipeline.cycle.load as load
    import pipeline.cycle.load_context as load_context
    import pipeline.files.controls as controls
    import pipeline.store.database as database

    targets = {
        "pipeline.cycle.load._precheck": ("precheck", False),
        "pipeline.files.read.iter_fixed_batches": ("lines", True),
        "pipeline.files.line_checks.line_codes": ("line_checks", False),
        "pipeline.files.line_checks.line_rejects": ("line_checks", False),
        "pipeline.files.record_checks.validate_records": ("records", False),
        "pipeline.files.read.slice_fields": ("records", False),
        "pipeline.files.validate._with_clean": ("merge", False),
        "pipeline.files.validate._count_read": ("merge", False),
        "pipeline.files.read.read_csv_text": ("csv", False),
        "pipeline.store.database.insert_frame": ("insert", False),
        "pipeline.cycle.qw_employers.attach_qw_employers": ("qw_update", False),
        "pipeline.cycle.load._record_ledger": ("ledger", False),
    }
    _patch(targets)
    for cls, names in ((controls.ControlTally, ("add", "add_records")),):
        for name in names:
            setattr(cls, name, _timed(getattr(cls, name), "controls"))
    load._Sink.__call__ = _timed(load._Sink.__call__, "sink")
    if hasattr(database, "Appender"):
        database.Appender.append = _timed(database.Appender.append, "insert")

    @contextmanager
    def transaction(con):
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        CLOCK.enter("commit")
        try:
            con.execute("COMMIT")
        finally:
            CLOCK.leave()

    load_context.transaction = transaction  # a large file's own transaction
    load_context.LoadContext.commit_group = _timed(load_context.LoadContext.commit_group, "commit")  # small files'


def _child(home: Path) -> dict:
    """In a fresh process: open a cycle, claim, bare-load the claimed files, then run the load stage."""
    os.environ["FPLS_POLL_SECONDS"] = "0"
    import duckdb

    from pipeline import store
    from pipeline.cycle import run as cycle_run
    from pipeline.cycle.context import CycleContext, CycleLog
    from pipeline.cycle.inbound import claim_ready_files, work_files
    from pipeline.portal.run import is_attachment

    _instrument()
    import pipeline.cycle.load as load

    cycle_run.ensure_home(home)
    con = store.connect(home)
    cycle_id, as_of, _ = cycle_run._open_cycle(con, home, date(2026, 11, 2))
    ctx = CycleContext(con, home, cycle_id, as_of, CycleLog(home, cycle_id), 0.0)
    claim_ready_files(ctx)
    files = [p for p in work_files(home / "work" / cycle_id) if not is_attachment(p)]  # documents have no lines
    nbytes = sum(p.stat().st_size for p in files)
    for p in files:  # both loads read from the page cache
        p.read_bytes()

    bare_db = home / "bare.duckdb"
    start, bare_cpu = time.perf_counter(), time.process_time()
    bare = duckdb.connect(str(bare_db))
    bare.execute("CREATE TABLE raw (line VARCHAR)")
    bare.execute(
        """INSERT INTO raw SELECT * FROM read_csv(?, columns={'line': 'VARCHAR'}, delim=chr(31), quote='',
        escape='', header=false, auto_detect=false, strict_mode=false)""",
        [[str(p) for p in files]],
    )
    bare.close()
    bare_seconds, bare_cpu = time.perf_counter() - start, time.process_time() - bare_cpu
    bare_rows = duckdb.connect(str(bare_db), read_only=True).execute("SELECT count(*) FROM raw").fetchone()[0]

    per_type: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    cpu_type: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    real_load_file = load.load_file

    def load_file(lctx, path, *args):
        CLOCK.file, CLOCK.cpu = defaultdict(float), defaultdict(float)
        CLOCK.enter("other")
        try:
            outcome = real_load_file(lctx, path, *args)
        finally:
            CLOCK.leave()
        kind = outcome.layout or "(refused)"
        for part, seconds in CLOCK.file.items():
            per_type[kind][part] += seconds
            cpu_type[kind][part] += CLOCK.cpu[part]
        counts[kind][0] += 1
        counts[kind][1] += outcome.records
        counts[kind][2] += path.stat().st_size
        return outcome

    load.load_file = load_file
    start = time.perf_counter()
    result = ctx.timed("load", load.load_claimed)[1]
    load_seconds = time.perf_counter() - start
    con.close()
    import resource

    return {
        "files": len(files),
        "bytes": nbytes,
        "bare_rows": bare_rows,
        "bare_seconds": bare_seconds,
        "bare_cpu": bare_cpu,
        "load_seconds": load_seconds,
        "load_cpu": result.cpu_seconds,
        "records": result.result["records"],
        "per_type": {k: dict(v) for k, v in per_type.items()},
        "cpu_type": {k: dict(v) for k, v in cpu_type.items()},
        "counts": {k: v for k, v in counts.items()},
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "load_average": os.getloadavg()[0],
    }


def generate(home: Path, persons: int) -> None:
    fpls = [sys.executable, "-m", "pipeline.cli", "generate", "--persons", str(persons), "--states", "KS,MO,OK,TX"]
    subprocess.run([*fpls, "--seed", "1", "--as-of", "2026-11-02", "--out", str(home)], check=True, cwd=ROOT)


def run_once(pristine: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="fpls-load-", dir=os.environ.get("FPLS_BENCH_TMP")) as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(pristine, home)
        load = os.getloadavg()[0]
        out = subprocess.run(
            [sys.executable, "-m", "bench.bench_load", "--child", str(home)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["load_average_start"] = load
        return result


def _merged(run: dict, key: str, small: set[str]) -> dict[str, dict[str, float]]:
    """Per file type (the small ones together) → part → seconds."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for kind, parts in run[key].items():
        for part, seconds in parts.items():
            out["other types" if kind in small else kind][part] += seconds
    return out


def table(runs: list[dict]) -> list[str]:
    """Median seconds per (file type, part); types under 3% of the stage are summed as 'other types'."""
    med = statistics.median
    first = runs[0]
    whole = sum(sum(v.values()) for v in first["per_type"].values())
    small = {k for k, v in first["per_type"].items() if sum(v.values()) < 0.03 * whole}
    wall = [_merged(r, "per_type", small) for r in runs]
    cpu = [_merged(r, "cpu_type", small) for r in runs]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for kind, c in first["counts"].items():
        counts["other types" if kind in small else kind] = [
            a + b for a, b in zip(counts["other types" if kind in small else kind], c)
        ]
    kinds = sorted(counts, key=lambda k: (k == "other types", -sum(wall[0][k].values())))
    parts = [p for p, _ in PARTS if any(w[k].get(p) for w in wall for k in kinds)]
    rows = [
        "| file type | files | records | MB | " + " | ".join(parts) + " | total s |",
        "|---|" + "---:|" * (len(parts) + 4),
    ]
    for kind in kinds:
        n, records, nbytes = counts[kind]
        cells = [med(w[kind].get(p, 0.0) for w in wall) for p in parts]
        total = med(sum(w[kind].values()) for w in wall)
        rows.append(
            f"| {kind} | {n} | {records:,} | {nbytes / 1e6:,.0f} | "
            + " | ".join(f"{c:.2f}" for c in cells)
            + f" | {total:.2f} |"
        )
    for label, src in (("all files", wall), ("all files, CPU s", cpu)):
        cells = [med(sum(w[k].get(p, 0.0) for k in w) for w in src) for p in parts]
        total = med(sum(sum(v.values()) for v in w.values()) for w in src)
        rows.append(f"| **{label}** | | | | " + " | ".join(f"{c:.2f}" for c in cells) + f" | **{total:.2f}** |")
    outside = med(r["load_seconds"] - sum(sum(v.values()) for v in r["per_type"].values()) for r in runs)
    outside_cpu = med(r["load_cpu"] - sum(sum(v.values()) for v in r["cpu_type"].values()) for r in runs)
    rows.append(
        f"\nOutside the files (stage setup, attachments, the checkpoint at the end): {outside:.2f} s "
        f"({outside_cpu:.2f} CPU s). The files' digests are taken when they are claimed, before this stage."
    )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, help="a generated home (copied for every run)")
    ap.add_argument("--persons", type=int, help="generate HOME first if it does not exist (states KS,MO,OK,TX, seed 1)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--append", action="store_true", help="append the table to BENCHMARKS.md")
    ap.add_argument("--json", type=Path, help="also write every run's figures here")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return
    if not args.home.exists():
        if not args.persons:
            raise SystemExit(f"{args.home} does not exist (give --persons N to generate it)")
        generate(args.home, args.persons)
    runs = [run_once(args.home) for _ in range(args.runs)]
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    med = statistics.median
    first = runs[0]
    ratios = [r["load_seconds"] / r["bare_seconds"] for r in runs]
    lines = [
        f"Home `{args.home}`: {first['files']} files, {first['records']:,} records, {first['bytes'] / 1e6:,.0f} MB "
        f"({first['bare_rows']:,} raw lines). Median of {len(runs)} runs, each a fresh copy and process.",
        "",
        "| | seconds (median) | runs | CPU s (median) | |",
        "|---|---:|---|---:|---|",
        f"| bare DuckDB load of the raw lines | {med(r['bare_seconds'] for r in runs):.2f} | "
        + ", ".join(f"{r['bare_seconds']:.2f}" for r in runs)
        + f" | {med(r['bare_cpu'] for r in runs):.1f} | DuckDB's default threads |",
        f"| load stage (`load_claimed`) | {med(r['load_seconds'] for r in runs):.2f} | "
        + ", ".join(f"{r['load_seconds']:.2f}" for r in runs)
        + f" | {med(r['load_cpu'] for r in runs):.1f} | peak RSS {max(r['peak_rss_mib'] for r in runs):,} MiB |",
        f"| **ratio load / bare** | **{med(ratios):.2f}** | "
        + ", ".join(f"{x:.2f}" for x in ratios)
        + f" | {med(r['load_cpu'] / r['bare_cpu'] for r in runs):.2f} | |",
        "",
        "1-min load average (start → end of each run): "
        + ", ".join(f"{r['load_average_start']:.1f}→{r['load_average']:.1f}" for r in runs)
        + ".",
        "",
        "Where the load stage's seconds go (exclusive seconds per part, median per cell):",
        "",
        *table(runs),
        "",
        "Parts: " + "; ".join(f"{p} = {d}" for p, d in PARTS) + ".",
    ]
    print("\n".join(lines))
    if args.append:
        from bench.common import append_section

        append_section(
            "Load stage profile (issue 20)", f"python -m bench.bench_load --home {args.home} --runs {args.runs}", lines
        )


if __name__ == "__main__":
    main()
