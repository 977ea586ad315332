"""The NDNH stage against the floor: a bare polars inner join of the same W-4 / QW / UI SSNs on the SSA master.

    python -m bench.bench_ndnh --home /tmp/g200k            # a home after `fpls run` (its last cycle)
    python -m bench.bench_ndnh --persons 200000 --out /tmp/g200k   # generate, run, then measure

The stage's seconds come from the cycle's own log (logs/<cycle>.jsonl, event `stage`); the join is timed here,
in this run, on the SSNs of the records the cycle loaded (median of 5). The ratio is what issue 15 bounds (≤ 20).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

FPLS = [sys.executable, "-m", "pipeline.cli"]


def stage_seconds(home: Path) -> tuple[str, float]:
    log = max((home / "logs").glob("*.jsonl"))
    events = [json.loads(line) for line in log.read_text().splitlines()]
    ndnh = [e for e in events if e.get("event") == "stage" and e.get("stage") == "ndnh"]
    return log.stem, float(ndnh[-1]["seconds"])


def bare_join_seconds(home: Path, cycle: str, runs: int = 5) -> tuple[int, int, float]:
    con = duckdb.connect(str(home / "fpls.duckdb"), read_only=True)
    try:
        records = con.execute("SELECT ssn FROM ndnh WHERE cycle_id = ?", [cycle]).pl()
        master = con.execute("SELECT DISTINCT ssn FROM ssa_master").pl()
    finally:
        con.close()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        records.join(master, on="ssn", how="inner")
        times.append(time.perf_counter() - start)
    return records.height, master.height, statistics.median(times)


def run_home(persons: int, out: Path) -> None:
    env = {**os.environ, "FPLS_POLL_SECONDS": "0"}
    subprocess.run(
        [
            *FPLS,
            "generate",
            "--persons",
            str(persons),
            "--states",
            "KS,MO,OK,TX",
            "--seed",
            "1",
            "--as-of",
            "2026-11-02",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*FPLS, "run", "--home", str(out), "--as-of", "2026-11-02"], check=True, capture_output=True, env=env
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, help="a home after a cycle")
    ap.add_argument("--persons", type=int, help="generate and run a home of this many persons first (into --out)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-ndnh"))
    args = ap.parse_args()
    home = args.home or args.out
    if args.persons:
        run_home(args.persons, home)
    cycle, stage = stage_seconds(home)
    n_records, n_master, join = bare_join_seconds(home, cycle)
    print(
        json.dumps(
            {
                "cycle": cycle,
                "ndnh_records": n_records,
                "master_ssns": n_master,
                "ndnh_stage_s": stage,
                "bare_join_s": round(join, 4),
                "ratio": round(stage / join, 1),
                "load_1min": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
