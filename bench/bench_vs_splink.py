"""fpls vs Splink on data nobody on this project wrote: pseudopeople's corpus (bench/devcorpus.py) and FEBRL4.

    .venv/bin/python -m bench.bench_vs_splink --seeds 1 --year 2021            # w2→ssa, census→ssa, FEBRL4 ±SSN
    .venv/bin/python -m bench.bench_vs_splink --seeds 1 2 --sample 2000       # quick: at most ~2000 rows a side
    add --append to append the table to BENCHMARKS.md (bench/common.py's append_section)

For every dataset, one invocation runs, on the same person-schema CSVs (LEFT = SSA master / FEBRL A, RIGHT = the
records to identify / FEBRL B):
  (i)  `fpls link LEFT RIGHT --out PAIRS --json` as a subprocess (the CLI, never an import of pipeline.*);
  (ii) Splink 5 (DuckDB, unsupervised, links at match_probability >= 0.5) as a subprocess running `splink_worker`
       below: the model of bench/bench_matchers.py `splink_child` (MATCHERS_RESULTS.md), with two adaptations
       that only matter on the pseudopeople files: a comparison whose column is empty on either side is dropped
       (the SSA master has no address, W-2 forms no DOB / sex), and an EM rule that would give no pairs is
       replaced (block_on(dob) → block_on(ssn) for W-2s) instead of crashing Splink. FEBRL gets the same model.
Each is timed around the subprocess (interpreter start and imports included, "process"), and from the tool's own
clock ("in tool": `seconds` of fpls's JSON; Splink's worker after its imports). fpls counts only
`decision == "match"`; Splink every predicted pair. Both are scored against the truth file (pairs of ids).

Outputs, under bench/data/vs_splink/<dataset>/: left.csv/right.csv/truth.csv when sampled, fpls_pairs.csv,
splink_pairs.csv, and errors_fpls.csv / errors_splink.csv: every false match (FP) and missed pair (FN), the two
records side by side, with fpls's best candidate (any decision) for the missed right row.

The fpls command is `.venv/bin/fpls` when it runs, else `python -m pipeline.cli` (the CLI while its package
moves); `--fpls "CMD ..."` overrides it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
OUT = DATA / "vs_splink"
PERSON_COLUMNS = ["id", "ssn", "first_name", "middle_name", "last_name", "dob", "sex", "street", "city", "state", "zip"]


# ---------------------------------------------------------------------------------------------------------- Splink
def splink_worker(left: str, right: str, out: str, with_ssn: str = "1") -> None:
    """Splink 5 on two person-schema CSVs (also bench_matchers.splink_child's model); with_ssn "0" leaves SSN out.

    Comparisons (each only when its column has a value on both sides): NameComparison(first_name),
    NameComparison(last_name) (tf), DateOfBirthComparison(dob), ExactMatch(street_number) (tf),
    JaroWinklerAtThresholds(street, [0.9, 0.7]), ExactMatch(city), DamerauLevenshteinAtThresholds(zip, [1, 2]) (tf),
    DamerauLevenshteinAtThresholds(ssn, [1, 2]). Prediction blocking: first+last, swapped names, dob, street,
    zip+last, zip+first, ssn. Prior from deterministic rules (ssn; first+last+dob) at recall 0.8; u by random
    sampling (1e6 pairs, seed 1); m by EM on block_on(first_name, last_name) and block_on(dob) (block_on(ssn) when
    there is no DOB on a side). Links: match probability >= 0.5."""
    import time as _time

    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t0 = _time.perf_counter()
    con = duckdb.connect()
    prep = r"""
        select id as unique_id, nullif(trim(ssn), '') as ssn,
               nullif(lower(trim(first_name)), '') as first_name, nullif(lower(trim(last_name)), '') as last_name,
               strftime(coalesce(try_strptime(dob, '%Y-%m-%d'), try_strptime(dob, '%Y%m%d')), '%Y-%m-%d') as dob,
               nullif(lower(trim(street)), '') as street, nullif(regexp_extract(street, '^(\d+)', 1), '') as street_number,
               nullif(lower(trim(city)), '') as city, nullif(trim(zip), '') as zip
        from read_csv('{path}', all_varchar = true, header = true)
    """
    tables = [con.sql(prep.format(path=p)).fetch_arrow_table() for p in (left, right)]
    present = {c for c in tables[0].column_names if all(t.column(c).null_count < t.num_rows for t in tables)}
    if with_ssn == "0":
        present.discard("ssn")
    db_api = DuckDBAPI(connection=con)
    sdfs = [db_api.register(t, dataset_display_name=n) for t, n in zip(tables, ("input_left", "input_right"))]
    candidates = {
        "first_name": cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        "last_name": cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
        "dob": cl.DateOfBirthComparison(
            "dob", input_is_string=True, datetime_format="%Y-%m-%d", invalid_dates_as_null=True
        ),
        "street_number": cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        "street": cl.JaroWinklerAtThresholds("street", [0.9, 0.7]),
        "city": cl.ExactMatch("city"),
        "zip": cl.DamerauLevenshteinAtThresholds("zip", [1, 2]).configure(term_frequency_adjustments=True),
        "ssn": cl.DamerauLevenshteinAtThresholds("ssn", [1, 2]),
    }
    comparisons = [c for name, c in candidates.items() if name in present]
    rules = [
        block_on("first_name", "last_name"),
        "l.first_name = r.last_name and l.last_name = r.first_name",
        block_on("dob"),
        block_on("street"),
        block_on("zip", "last_name"),
        block_on("zip", "first_name"),
    ]
    deterministic = [block_on("first_name", "last_name", "dob")] if "dob" in present else []
    if "ssn" in present:
        rules.append(block_on("ssn"))
        deterministic.insert(0, block_on("ssn"))
    if not deterministic:
        deterministic = [block_on("first_name", "last_name")]
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(sdfs, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "last_name"))
    second = "dob" if "dob" in present else ("ssn" if "ssn" in present else None)
    if second:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(second))
    pred = linker.inference.predict(threshold_match_probability=0.5)
    con.sql(
        f"copy (select unique_id_l as left_id, unique_id_r as right_id, match_probability "
        f"from {pred.physical_name}) to '{out}' (header, delimiter ',')"
    )
    sys.stderr.write(f"splink {_time.perf_counter() - t0:.2f}s in-process\n")


# ---------------------------------------------------------------------------------------------------------- data
def dataset_files(seeds: list[int], year: int, census_year: int, febrl: bool) -> list[tuple[str, Path, Path, Path]]:
    """(name, left, right, truth) per dataset; builds missing pseudopeople corpora."""
    out = []
    for seed in seeds:
        d = DATA / f"dev-s{seed}-y{year}-c{census_year}"
        if not (d / "corpus.json").exists():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.devcorpus",
                    "--seed",
                    str(seed),
                    "--year",
                    str(year),
                    "--census-year",
                    str(census_year),
                    "--out",
                    str(d),
                ],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        out.append((f"pp_s{seed}_w2_ssa", d / "ssa.csv", d / "w2.csv", d / "truth_w2_ssa.csv"))
        out.append((f"pp_s{seed}_census_ssa", d / "ssa.csv", d / "census.csv", d / "truth_census_ssa.csv"))
    if febrl:
        sys.path.insert(0, str(ROOT))
        from bench.bench_matchers import (
            febrl_files,  # the FEBRL4 → person-schema mapping of the matchers bench
        )

        for blank in (False, True):
            a, b, t = febrl_files(blank)
            out.append(("febrl4_" + ("no_ssn" if blank else "ssn"), a, b, t))
    return out


def sample(name: str, left: Path, right: Path, truth: Path, n: int) -> tuple[Path, Path, Path]:
    """At most n right rows (seeded random), their true left rows plus n random left rows; truth restricted."""
    d = OUT / name / f"sample{n}"
    d.mkdir(parents=True, exist_ok=True)
    L = pl.read_csv(left, infer_schema=False)
    R = pl.read_csv(right, infer_schema=False)
    T = pl.read_csv(truth, infer_schema=False)
    r = R.sample(min(n, R.height), seed=1).sort("id") if R.height > n else R
    t = T.join(r.select(pl.col("id").alias("right_id")), on="right_id")
    keep = pl.concat(
        [t.select(pl.col("left_id").alias("id")), L.sample(min(n, L.height), seed=2).select("id")]
    ).unique()
    lf = L.join(keep, on="id", how="semi")
    t = t.join(lf.select(pl.col("id").alias("left_id")), on="left_id")
    paths = d / "left.csv", d / "right.csv", d / "truth.csv"
    lf.write_csv(paths[0])
    r.write_csv(paths[1])
    t.write_csv(paths[2])
    return paths


# ---------------------------------------------------------------------------------------------------------- runs
def fpls_command(override: str | None) -> list[str]:
    if override:
        return shlex.split(override)
    exe = ROOT / ".venv" / "bin" / "fpls"
    if exe.exists() and subprocess.run([str(exe), "link", "--help"], capture_output=True, cwd=ROOT).returncode == 0:
        return [str(exe)]
    return [sys.executable, "-m", "pipeline.cli"]


def _timed(argv: list[str]) -> tuple[float, str, subprocess.CompletedProcess]:
    before = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - t0, f"{before:.2f}→{os.getloadavg()[0]:.2f}", proc


def run_fpls(cmd: list[str], left: Path, right: Path, out: Path) -> dict:
    seconds, load, proc = _timed([*cmd, "link", str(left), str(right), "--out", str(out), "--json"])
    if proc.returncode:
        sys.stderr.write(proc.stdout[-1500:] + proc.stderr[-1500:])
        return {"error": f"exit {proc.returncode}"}
    summary, _ = json.JSONDecoder().raw_decode(proc.stdout.lstrip())
    return {
        "seconds": seconds,
        "in_tool": summary.get("seconds"),
        "load": load,
        "candidates": summary.get("candidate_pairs"),
        "summary": summary,
    }


def run_splink(left: Path, right: Path, out: Path) -> dict:
    code = "import sys; from bench.bench_vs_splink import splink_worker; splink_worker(*sys.argv[1:])"
    seconds, load, proc = _timed([sys.executable, "-c", code, str(left), str(right), str(out)])
    if proc.returncode:
        sys.stderr.write(proc.stderr[-3000:])
        return {"error": f"exit {proc.returncode}"}
    in_tool = next(
        (
            float(line.split()[1].rstrip("s"))
            for line in proc.stderr.splitlines()
            if line.startswith("splink ") and line.endswith("in-process")
        ),
        None,
    )
    return {"seconds": seconds, "in_tool": in_tool, "load": load}


# ---------------------------------------------------------------------------------------------------------- scoring
def score(pred: pl.DataFrame, truth: pl.DataFrame) -> dict:
    p = pred.select("left_id", "right_id").unique()
    t = truth.select("left_id", "right_id").unique()
    tp = p.join(t, on=["left_id", "right_id"], how="semi").height
    fp, fn = p.height - tp, t.height - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def errors(
    pred: pl.DataFrame, truth: pl.DataFrame, left: Path, right: Path, fpls_all: pl.DataFrame | None, out: Path
) -> None:
    """Every FP and FN with both records side by side (and fpls's best candidate for a missed right row)."""
    p = pred.select("left_id", "right_id").unique()
    t = truth.select("left_id", "right_id").unique()
    rows = pl.concat(
        [
            p.join(t, on=["left_id", "right_id"], how="anti").with_columns(pl.lit("FP").alias("kind")),
            t.join(p, on=["left_id", "right_id"], how="anti").with_columns(pl.lit("FN").alias("kind")),
        ]
    )
    L = pl.read_csv(left, infer_schema=False).rename(lambda c: f"l_{c}")
    R = pl.read_csv(right, infer_schema=False).rename(lambda c: f"r_{c}")
    rows = rows.join(L, left_on="left_id", right_on="l_id", how="left").join(
        R, left_on="right_id", right_on="r_id", how="left"
    )
    if fpls_all is not None:
        scored = fpls_all.select("left_id", "right_id", "match_probability", "decision", "explanation")
        rows = rows.join(scored, on=["left_id", "right_id"], how="left")
        best = (
            fpls_all.with_columns(pl.col("match_probability").cast(pl.Float64))
            .sort("match_probability", descending=True)
            .unique("right_id", keep="first")
            .select(
                "right_id",
                pl.col("left_id").alias("fpls_best_left"),
                pl.col("match_probability").alias("fpls_best_p"),
                pl.col("decision").alias("fpls_best_decision"),
            )
        )
        rows = rows.join(best, on="right_id", how="left")
    rows.sort("kind", "right_id").write_csv(out)


# ---------------------------------------------------------------------------------------------------------- table
def _f(x: float | None, fmt: str = "{:.2f}") -> str:
    return "" if x is None else fmt.format(x)


def _cell(r: dict) -> tuple[str, str, str]:
    if "error" in r:
        return r["error"], "", ""
    prf = f"{r['precision']:.4f} / {r['recall']:.4f} / **{r['f1']:.4f}**"
    return prf, f"{r['tp']:,} / {r['fp']:,} / {r['fn']:,}", f"{r['seconds']:.2f} ({_f(r.get('in_tool'))})"


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| dataset | records (left + right) | true pairs | fpls P / R / F1 | fpls tp / fp / fn | fpls s process (in tool) "
        "| Splink P / R / F1 | Splink tp / fp / fn | Splink s process (in tool) | speed ratio (Splink ÷ fpls, process) "
        "| load 1-min fpls; Splink |",
        "|---|---:|---:|---|---|---:|---|---|---:|---:|---|",
    ]
    for r in rows:
        f, s = r["fpls"], r["splink"]
        ratio = f"{s['seconds'] / f['seconds']:.1f}×" if "seconds" in f and "seconds" in s else ""
        lines.append(
            f"| {r['name']} | {r['left']:,} + {r['right']:,} | {r['truth']:,} | "
            + " | ".join(_cell(f))
            + " | "
            + " | ".join(_cell(s))
            + f" | {ratio} | {f.get('load', '')}; {s.get('load', '')} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1], help="pseudopeople seeds (never 0)")
    ap.add_argument("--year", type=int, default=2021)
    ap.add_argument("--census-year", type=int, default=2030)
    ap.add_argument("--sample", type=int, default=0, help="at most N right rows (and ~N + their true left rows)")
    ap.add_argument("--no-febrl", action="store_true", help="skip FEBRL4")
    ap.add_argument("--no-splink", action="store_true")
    ap.add_argument("--only", nargs="*", help="dataset names to run (default all)")
    ap.add_argument("--fpls", help="fpls command to run (default .venv/bin/fpls, else python -m pipeline.cli)")
    ap.add_argument("--append", action="store_true", help="append the table to BENCHMARKS.md")
    args = ap.parse_args()
    if 0 in args.seeds:
        ap.error("seed 0 is kept for independent acceptance")
    cmd = fpls_command(args.fpls)
    rows = []
    for name, left, right, truth in dataset_files(args.seeds, args.year, args.census_year, not args.no_febrl):
        if args.only and name not in args.only:
            continue
        if args.sample:
            left, right, truth = sample(name, left, right, truth, args.sample)
        d = OUT / name
        d.mkdir(parents=True, exist_ok=True)
        T = pl.read_csv(truth, infer_schema=False)
        n_left = pl.scan_csv(left).select(pl.len()).collect().item()
        n_right = pl.scan_csv(right).select(pl.len()).collect().item()
        row = {"name": name, "left": n_left, "right": n_right, "truth": T.height}
        print(f"{name}: fpls ...", file=sys.stderr, flush=True)
        f = run_fpls(cmd, left, right, d / "fpls_pairs.csv")
        if "error" not in f:
            all_pairs = pl.read_csv(d / "fpls_pairs.csv", infer_schema=False)
            matches = all_pairs.filter(pl.col("decision") == "match")
            f.update(score(matches, T))
            errors(matches, T, left, right, all_pairs, d / "errors_fpls.csv")
        row["fpls"] = f
        if args.no_splink:
            row["splink"] = {"error": "not run"}
        else:
            print(f"{name}: splink ...", file=sys.stderr, flush=True)
            s = run_splink(left, right, d / "splink_pairs.csv")
            if "error" not in s:
                sp = pl.read_csv(d / "splink_pairs.csv", infer_schema=False)
                s.update(score(sp, T))
                errors(sp, T, left, right, None, d / "errors_splink.csv")
            row["splink"] = s
        rows.append(row)
    command = " ".join([".venv/bin/python -m bench.bench_vs_splink", *sys.argv[1:]])
    lines = table(rows)
    notes = [
        "",
        f"fpls command: `{' '.join(shlex.quote(c) for c in cmd)} link LEFT RIGHT --out PAIRS --json` (counts "
        "`decision == match`); Splink 5: `bench.bench_vs_splink.splink_worker` (DuckDB, unsupervised, p ≥ 0.5). "
        "LEFT = SSA master (pp_*) / FEBRL A; RIGHT = W-2 forms or census+ACS+CPS persons / FEBRL B. "
        f"pseudopeople corpus: year {args.year}, census {args.census_year} (bench/devcorpus.py)"
        + (f"; sampled to ≤ {args.sample} right rows" if args.sample else "")
        + ".",
    ]
    if args.append:
        from bench.common import append_section

        append_section("fpls vs Splink on pseudopeople and FEBRL4 (issue 15)", command, [*lines, *notes])
    else:
        load = os.getloadavg()
        print("\n".join([*lines, *notes]))
        print(
            f"\nload average (1/5/15 min) at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; "
            f"{os.cpu_count()} cores; command: `{command}`"
        )


if __name__ == "__main__":
    main()
