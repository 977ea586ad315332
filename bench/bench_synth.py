"""Benchmark `fpls generate`: persons, files, records, seconds, peak RSS (one markdown table row).

Usage: python -m bench.bench_synth [--persons 1000000] [--states KS,MO,OK,TX] [--out DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from synth.home import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--states", default="KS,MO,OK,TX")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="fpls-synth-"))
    started = time.perf_counter()
    summary = generate(args.persons, args.states.split(","), args.seed, out, date(2026, 11, 2))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    print("| persons | states | files | records | MB written | seconds | peak RSS MB |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    print(
        f"| {args.persons:,} | {args.states} | {summary['files']} | {summary['records']:,} | {size_mb:,.0f} | "
        f"{seconds:.1f} | {peak_mb:,.0f} |"
    )
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
