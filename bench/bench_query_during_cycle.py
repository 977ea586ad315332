"""Operator queries while the nightly cycle runs (issue 16): every answer in under 2 s, the cycle's result unchanged.

    python -m bench.bench_query_during_cycle --persons 1000000 --out /tmp/q1m

A home of two monthly cycles is generated and cycle 1 runs (kept as OUT.pristine; `--reuse` keeps it). Then two
copies of that home run cycle 2: the quiet twin alone, the busy twin while an operator runs
`fpls query person --ssn ... --json` again and again, each a fresh process as at a terminal. Reported: the
query latencies (median, p95, max), how many answered from the last completed cycle's snapshot, and whether
both twins' outbound files are byte-identical. SSNs are never printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from pipeline.cycle.replay import _drop, schedule

FPLS = [sys.executable, "-m", "pipeline.cli"]
ENV = {**os.environ, "FPLS_POLL_SECONDS": "0"}


def fpls(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([*FPLS, *args], capture_output=True, text=True, env=ENV)
    if proc.returncode != 0:
        raise SystemExit(f"fpls {args[0]} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return proc


def prepare(persons: int, pristine: Path, reuse: bool) -> None:
    """A generated home of two monthly cycles with cycle 1 done."""
    if reuse and (pristine / "fpls.duckdb").exists():
        return
    shutil.rmtree(pristine, ignore_errors=True)
    fpls("generate", "--persons", str(persons), "--seed", "1", "--as-of", "2026-10-05", "--cycles", "2",
         "--cadence", "monthly", "--out", str(pristine))  # fmt: skip
    fpls("run", "--home", str(pristine), "--as-of", schedule(pristine)[0][1].isoformat())


def twin(pristine: Path, out: Path) -> str:
    """A copy of the pristine home with cycle 2's files dropped into inbound/; returns cycle 2's date."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(pristine, out, symlinks=True)
    _, day, folder = schedule(out)[1]
    _drop(folder, out / "inbound")
    return day.isoformat()


def sample_ssns(home: Path, n: int) -> list[str]:
    con = duckdb.connect(str(home / "fpls.duckdb"), read_only=True)
    try:
        return [
            r[0]
            for r in con.execute(f"SELECT ssn FROM fcr_persons WHERE ssn IS NOT NULL USING SAMPLE {n} ROWS").fetchall()
        ]
    finally:
        con.close()


def _children_cpu() -> float:
    """CPU seconds of the reaped children: the cycle is reaped only at its end, so a query's delta is its own."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def query_while_running(
    home: Path, day: str, ssns: list[str], pause: float
) -> tuple[float, list[tuple[float, float, bool, int]]]:
    """Start the cycle, query until it ends; (cycle seconds, [(query s, query CPU s, from snapshot, exit code)])."""
    start = time.perf_counter()
    cycle = subprocess.Popen([*FPLS, "run", "--home", str(home), "--as-of", day], env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    answers, i = [], 0
    while cycle.poll() is None:
        t0, cpu0 = time.perf_counter(), _children_cpu()
        proc = subprocess.run([*FPLS, "query", "person", "--home", str(home), "--ssn", ssns[i % len(ssns)], "--json"],
                              capture_output=True, text=True, env=ENV)  # fmt: skip
        answers.append(
            (time.perf_counter() - t0, _children_cpu() - cpu0, "snapshot" in proc.stdout.lower(), proc.returncode)
        )
        i += 1
        time.sleep(pause)  # an operator reads the answer before asking again
    if cycle.returncode != 0:
        raise SystemExit(f"the busy twin's cycle failed ({cycle.returncode})")
    return time.perf_counter() - start, answers


def outbound_digest(home: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in (home / "outbound").rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(home)).encode() + path.read_bytes())
    return digest.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/q1m"))
    ap.add_argument("--reuse", action="store_true", help="keep OUT.pristine if it exists")
    ap.add_argument("--pause", type=float, default=2.0, help="seconds between one answer and the next query")
    args = ap.parse_args()
    pristine = args.out.with_name(args.out.name + ".pristine")
    prepare(args.persons, pristine, args.reuse)
    ssns = sample_ssns(pristine, 200)
    quiet, busy = args.out.with_name(args.out.name + ".quiet"), args.out
    day = twin(pristine, quiet)
    t0 = time.perf_counter()
    fpls("run", "--home", str(quiet), "--as-of", day)
    quiet_s = time.perf_counter() - t0
    twin(pristine, busy)
    load = os.getloadavg()[0]
    busy_s, answers = query_while_running(busy, day, ssns, args.pause)
    times, cpu = sorted(a[0] for a in answers), sorted(a[1] for a in answers)
    result = {
        "persons": args.persons,
        "cycle_2_seconds": {"quiet": round(quiet_s, 1), "while_queried": round(busy_s, 1)},
        "queries": len(answers),
        "failed": sum(a[3] != 0 for a in answers),
        "from_snapshot": sum(a[2] for a in answers),
        "seconds": {
            "median": round(statistics.median(times), 3),
            "p95": round(times[int(0.95 * (len(times) - 1))], 3),
            "max": round(times[-1], 3),
        },  # fmt: skip
        "cpu_seconds": {"median": round(statistics.median(cpu), 3), "max": round(cpu[-1], 3)},
        "under_2s": sum(t < 2 for t in times),
        "outbound_identical": outbound_digest(quiet) == outbound_digest(busy),
        "load_average_at_start": round(load, 2),
        "command": f"python -m bench.bench_query_during_cycle --persons {args.persons} --out {args.out} --reuse",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
