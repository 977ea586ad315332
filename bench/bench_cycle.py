"""End-to-end cycle benchmark: generate a home, run one cycle, evaluate; wall time and peak RSS.

    python -m bench.bench_cycle --persons 1000000 --states KS,MO,OK,TX --seed 1 --out /tmp/big

Each step runs `fpls` in a child process; peak RSS is that child's ru_maxrss. Results are appended
to bench/CYCLE_RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FPLS = [sys.executable, "-m", "pipeline.cli"]
RESULTS = Path(__file__).resolve().parent / "CYCLE_RESULTS.md"


def timed(args: list[str], env: dict | None = None) -> tuple[float, float, str, float, float]:
    """(wall seconds, peak RSS GB of this child, stdout, CPU seconds, 1-min load average at the start).
    GNU time (`/usr/bin/time`) measures the child alone when present; else the children's maximum RSS."""
    load = os.getloadavg()[0]
    gnu = Path("/usr/bin/time")
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        cmd = [str(gnu), "-f", "%M %U %S", "-o", tf.name, *FPLS, *args] if gnu.exists() else [*FPLS, *args]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"fpls {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if gnu.exists():
            kib, user, system = tf.read().split()[-3:]
            return seconds, int(kib) / 1024 / 1024, proc.stdout, float(user) + float(system), load
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, after.ru_maxrss / 1024 / 1024, proc.stdout, cpu, load


def ndnh_counts(home: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(home / "fpls.duckdb"), read_only=True)
    try:
        rows = con.execute("""SELECT source, count(*), count(*) FILTER (WHERE verification = 'V') FROM ndnh
            GROUP BY 1 ORDER BY 1""").fetchall()
    finally:
        con.close()
    return {r[0]: (r[1], r[2]) for r in rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--states", default="KS,MO,OK,TX")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--as-of", default="2026-11-02")
    ap.add_argument("--out", type=Path, default=Path("/tmp/big"))
    ap.add_argument("--reuse", action="store_true", help="Reuse OUT.pristine if it exists (skip generation).")
    args = ap.parse_args()
    pristine = args.out.with_name(args.out.name + ".pristine")
    gen = (0.0, 0.0, 0.0, 0.0)
    if not (args.reuse and pristine.exists()):
        shutil.rmtree(pristine, ignore_errors=True)
        s, rss, _, gcpu, gload = timed(
            [
                "generate",
                "--persons",
                str(args.persons),
                "--states",
                args.states,
                "--seed",
                str(args.seed),
                "--as-of",
                args.as_of,
                "--out",
                str(pristine),
            ]
        )
        gen = (s, rss, gcpu, gload)
    shutil.rmtree(args.out, ignore_errors=True)
    shutil.copytree(pristine, args.out)
    run_s, run_rss, run_out, run_cpu, run_load = timed(
        ["run", "--home", str(args.out), "--as-of", args.as_of, "--json"], {"FPLS_POLL_SECONDS": "0"}
    )
    eval_s, _, eval_out, _, _ = timed(["eval", "--home", str(args.out), "--json"])
    counts = ndnh_counts(args.out)
    summary, metrics = json.loads(run_out), json.loads(eval_out)
    records = sum(f["records"] or 0 for f in summary["files"])
    fn = sum(p["fn"] for p in summary["partners"])
    lines = [
        f"\n## {time.strftime('%Y-%m-%d')} — {args.persons:,} persons, states {args.states}, seed {args.seed}, "
        f"{os.cpu_count()} cores",
        f"- command: `python -m bench.bench_cycle --persons {args.persons} --states {args.states} --seed {args.seed} "
        f"--out {args.out}`",
        f"- generate: {gen[0]:.1f} s wall ({gen[2]:.0f} s CPU, load average {gen[3]:.1f}), peak RSS {gen[1]:.2f} GB"
        if gen[0]
        else "- generate: reused",
        f"- `fpls run`: **{run_s:.1f} s wall ({run_cpu:.0f} s CPU, load average {run_load:.1f}), peak RSS {run_rss:.2f} GB**; "
        f"{len(summary['files'])} files, {records:,} records, {fn:,} FN records",
        "- NDNH records (verified / loaded): " + ", ".join(f"{k} {v[1]:,} / {v[0]:,}" for k, v in counts.items()),
        f"- `fpls eval`: {eval_s:.1f} s",
    ]
    for name, m in metrics["sources"].items():
        lines.append(
            f"- {name}: precision {m['precision']:.4f}, recall {m['recall']:.4f}, **F1 {m['f1']:.4f}** "
            f"(tp {m['tp']}, fp {m['fp']}, fn {m['fn']})"
        )
    text = "\n".join(lines) + "\n"
    if not RESULTS.exists():
        RESULTS.write_text("# Cycle benchmark results (bench/bench_cycle.py)\n")
    with RESULTS.open("a") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
