"""Engine parity and cost: one generated home, one cycle with `--engine local` and one with `--engine spark`.

    python -m bench.bench_engine --persons 100000 --out /tmp/eng100k [--master 'local[2]'] [--reuse]

Checks that outbound files, manifests and `fpls eval --json` are byte-identical, and measures each run's wall
time, per-stage seconds (the cycle log), and peak memory by process role, sampled from /proc every 0.2 s over
the run's process tree: the fpls driver (Python), the Spark driver JVM (which also hosts local[*] executors)
and the Spark Python workers. The Spark run's per-partition kernel costs (<home>/logs/<cycle>.engine.jsonl)
are summarised: docs/SCALE.md's national estimate is built from them. Results go to bench/ENGINE_RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

FPLS = [sys.executable, "-m", "pipeline.cli"]
RESULTS = Path(__file__).resolve().parent / "ENGINE_RESULTS.md"
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree(root: int) -> dict[int, tuple[str, int]]:
    """pid → (role, RSS bytes) for root and its descendants."""
    children: dict[int, list[int]] = {}
    info: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            rss = int((entry / "statm").read_text().split()[1]) * PAGE
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
        role = "jvm" if "java" in cmd.split(" ")[0] else ("workers" if "pyspark" in cmd else "python")
        info[int(entry.name)] = (role, rss)
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in info:
            out[pid] = info[pid] if pid != root else ("driver", info[pid][1])
        todo += children.get(pid, [])
    return out


def run(args: list[str], env: dict | None = None) -> dict:
    """Run fpls; wall seconds and the peak RSS (GiB) per role: driver, jvm, workers (summed per sample)."""
    load = os.getloadavg()[0]
    proc = subprocess.Popen(
        [*FPLS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )
    peaks: dict[str, int] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            sums: dict[str, int] = {}
            for role, rss in _tree(proc.pid).values():
                sums[role] = sums.get(role, 0) + rss
            sums["driver+jvm"] = sums.get("driver", 0) + sums.get("jvm", 0)
            for role, rss in sums.items():
                peaks[role] = max(peaks.get(role, 0), rss)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"fpls {' '.join(args)} failed ({proc.returncode}):\n{err[-3000:]}")
    return {
        "seconds": round(seconds, 1),
        "load_1m": round(load, 2),
        "peak_gib": {k: round(v / 2**30, 2) for k, v in sorted(peaks.items())},
        "stdout": out,
    }


def stage_seconds(home: Path) -> dict[str, float]:
    (log,) = [p for p in (home / "logs").glob("*.jsonl") if p.name.count(".") == 1 and p.name[0].isdigit()]
    return {
        r["stage"]: r["seconds"]
        for r in map(_json_or_none, log.read_text().splitlines())
        if r and r.get("event") == "stage"
    }


def _json_or_none(line: str) -> dict | None:
    """A log line, or None when the log's SSN scrubber made it unparsable (it masks any 9-digit number, a
    manifest's byte count included)."""
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


def partition_costs(home: Path) -> dict[str, dict]:
    """Per kernel: partitions, rows, kernel seconds (sum and max), µs per row, worker peak RSS."""
    out: dict[str, dict] = {}
    for path in (home / "logs").glob("*.engine.jsonl"):
        for row in map(json.loads, path.read_text().splitlines()):
            s = out.setdefault(
                row["stage"],
                {
                    "partitions": 0,
                    "rows": 0,
                    "kernel_s": 0.0,
                    "max_partition_s": 0.0,
                    "sides_s": 0.0,
                    "worker_rss_mb": 0,
                },
            )
            s["partitions"] += 1
            s["rows"] += row["rows_in"]
            s["kernel_s"] = round(s["kernel_s"] + row["kernel_seconds"], 3)
            s["sides_s"] = round(s["sides_s"] + row["sides_seconds"], 3)
            s["max_partition_s"] = max(s["max_partition_s"], row["kernel_seconds"])
            s["worker_rss_mb"] = max(s["worker_rss_mb"], row["worker_peak_rss_mb"])
    for s in out.values():
        s["us_per_row"] = round(1e6 * s["kernel_s"] / max(s["rows"], 1), 1)
    return out


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--states", default="KS,MO,OK,TX")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--as-of", default="2026-11-02")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--out", type=Path, default=Path("/tmp/engine"))
    ap.add_argument("--reuse", action="store_true", help="Reuse OUT/pristine if it exists (skip generation).")
    ap.add_argument("--only", choices=("local", "spark"), help="Run one engine only (no parity check).")
    args = ap.parse_args()
    pristine = args.out / "pristine"
    if not (args.reuse and pristine.exists()):
        shutil.rmtree(pristine, ignore_errors=True)
        gen = ["generate", "--persons", str(args.persons), "--states", args.states, "--seed", str(args.seed)]
        run([*gen, "--as-of", args.as_of, "--out", str(pristine)])
    env = {"FPLS_POLL_SECONDS": "0", "PYSPARK_PYTHON": sys.executable}
    result = {
        "persons": args.persons,
        "states": args.states,
        "seed": args.seed,
        "master": args.master,
        "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    for engine in ("local", "spark"):
        if args.only and engine != args.only:
            continue
        home = args.out / engine
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(pristine, home)
        extra = ["--spark-master", args.master] if engine == "spark" else []
        r = run(["run", "--home", str(home), "--as-of", args.as_of, "--engine", engine, *extra], env)
        r.pop("stdout")
        r["stages"] = stage_seconds(home)
        if engine == "spark":
            r["partitions"] = partition_costs(home)
        r["eval"] = run(["eval", "--home", str(home), "--json"])["stdout"]
        result[engine] = r
    if not args.only:
        local, spark = args.out / "local", args.out / "spark"
        a, b = tree_bytes(local / "outbound"), tree_bytes(spark / "outbound")
        result["parity"] = {
            "outbound_files": len(a),
            "outbound_identical": a == b,
            "eval_identical": result["local"]["eval"] == result["spark"]["eval"],
            "spark_over_local": round(result["spark"]["seconds"] / result["local"]["seconds"], 2),
        }
    for engine in ("local", "spark"):
        if engine in result:
            result[engine]["eval"] = json.loads(result[engine]["eval"])["sources"].get("ssn_verification")
    text = json.dumps(result, indent=1)
    print(text)
    with RESULTS.open("a") as fh:
        fh.write(
            f"\n## {result['at']}: {args.persons:,} persons, `python -m bench.bench_engine --persons {args.persons} --master '{args.master}'`\n\n```json\n{text}\n```\n"
        )


if __name__ == "__main__":
    main()
