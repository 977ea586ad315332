"""Tier two at scale: a generated monthly history run cycle by cycle, then every monthly and semi-annual
report built and timed, every report file scanned for full SSNs, and the ability classes scored.

    .venv/bin/python -m bench.bench_tier2 [--persons 100000] [--cycles 12] [--home DIR] [--reuse]

1. `fpls generate --cadence monthly --cycles K` (states KS, MO, OK, TX; seed 19; first cycle 2026-01-05);
2. `replay` runs the K cycles (each ends with its cycle reports);
3. `build_period_reports` for every month and half-year holding a cycle (each timed: target < 30 s each);
4. every file under reports/ is scanned for any SSN the store holds (9 digits, or NNN-NN-NNNN);
5. `fpls eval`'s segment scores (ability accuracy: target >= 0.95).
Prints one JSON line and appends a row to bench/TIER2_RESULTS.md with the 1-minute load average.
`--reuse` skips 1-2 when DIR already holds the finished history.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "TIER2_RESULTS.md"
STATES = ["KS", "MO", "OK", "TX"]
START = date(2026, 1, 5)
SSN_SHAPES = re.compile(rb"(?<!\d)(\d{9}|\d{3}-\d{2}-\d{4})(?!\d)")


def _ssns(con) -> set[bytes]:
    rows = con.execute(
        """SELECT ssn FROM ssa_master UNION SELECT ssn FROM fcr_persons UNION SELECT verified_ssn FROM fcr_persons
        UNION SELECT ssn FROM ndnh UNION SELECT ncp_ssn FROM case_financial UNION SELECT ssn FROM debtors"""
    ).fetchall()
    return {r[0].encode() for r in rows if r[0]}


def scan_reports(home: Path, ssns: set[bytes]) -> dict:
    files, hits = 0, []
    for path in (home / "reports").rglob("*"):
        if not path.is_file():
            continue
        files += 1
        for m in SSN_SHAPES.finditer(path.read_bytes()):
            if m.group(1).replace(b"-", b"") in ssns:
                hits.append(str(path.relative_to(home)))
                break
    return {"files_scanned": files, "files_with_full_ssn": len(hits), "examples": hits[:5]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--cycles", type=int, default=12)
    ap.add_argument("--home", type=Path, default=ROOT / "bench" / "data" / "tier2")
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args()
    os.environ["FPLS_POLL_SECONDS"] = "0"
    from pipeline import store
    from pipeline.cycle.replay import replay
    from pipeline.evaluation.segments import ability_eval
    from reports.periodic import build_period_reports, parse_half, parse_month
    from synth.home import generate

    out = {"persons": args.persons, "cycles": args.cycles, "load_1min_start": os.getloadavg()[0]}
    home = args.home
    if not args.reuse:
        shutil.rmtree(home, ignore_errors=True)
        t = time.perf_counter()
        gen = generate(args.persons, STATES, 19, home, START, cycles=args.cycles, cadence="monthly")
        out["generate_s"] = round(time.perf_counter() - t, 1)
        out["records_generated"] = gen["records"]
        t = time.perf_counter()
        cycle_s = []

        def show(s) -> None:
            cycle_s.append(sum(v["seconds"] for v in s.stages.values()))
            print(
                f"cycle {s.cycle_id}: {cycle_s[-1]:.1f} s, reports stage {s.stages['reports']['seconds']} s "
                f"(load {os.getloadavg()[0]:.1f})",
                flush=True,
            )

        replay(home, on_cycle=show)
        out["replay_s"] = round(time.perf_counter() - t, 1)
        out["cycle_s"] = [round(x, 1) for x in cycle_s]
    con = store.connect(home)
    try:
        dates = [r[0] for r in con.execute("SELECT as_of FROM cycles WHERE status = 'done' ORDER BY 1").fetchall()]
        months = sorted({f"{d:%Y-%m}" for d in dates})
        halves = sorted({f"{d.year}H{1 if d.month <= 6 else 2}" for d in dates})
        timings, loads = {}, {}
        for label in months + halves:
            period = parse_month(label) if "H" not in label else parse_half(label)
            t = time.perf_counter()
            res = build_period_reports(con, home, period)
            timings[label] = round(time.perf_counter() - t, 2)
            loads[label] = round(os.getloadavg()[0], 2)
            print(f"report {label}: {timings[label]} s {res.seconds} (load {loads[label]})", flush=True)
        out["period_report_s"] = timings
        out["period_report_load_1min"] = loads
        out["slowest_period_report_s"] = max(timings.values())
        out["ssn_scan"] = scan_reports(home, _ssns(con))
        seg = ability_eval(con, home)
        out["ability_accuracy"] = seg["ability"]["accuracy"]
        out["ability_n"] = seg["ability"]["n"]
        out["ability_accuracy_verified_ssn"] = seg["ability_verified_ssn"]["accuracy"]
        out["behaviour_accuracy"] = seg["behaviour"]["accuracy"]
        out["ability_confusion"] = seg["ability"]["confusion"]
    finally:
        con.close()
    out["load_1min_end"] = os.getloadavg()[0]
    print(json.dumps(out))
    _append(out)


def _append(out: dict) -> None:
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Tier two benchmark (issue 19)\n\nCommand: `.venv/bin/python -m bench.bench_tier2 [--persons N] "
            "[--cycles K]`. Targets: every monthly and semi-annual report < 30 s; ability accuracy >= 0.95; "
            "0 files with a full SSN.\n\n| when (UTC) | persons | cycles | load 1-min (start/end) | generate s | "
            "replay s | slowest period report s | ability accuracy (n) | behaviour accuracy | report files / with SSN |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n"
        )
    with RESULTS.open("a") as fh:
        fh.write(
            f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {out['persons']:,} | {out['cycles']} | "
            f"{out['load_1min_start']:.2f} / {out['load_1min_end']:.2f} | {out.get('generate_s', '-')} | "
            f"{out.get('replay_s', '-')} | {out['slowest_period_report_s']} | {out['ability_accuracy']} "
            f"({out['ability_n']:,}) | {out['behaviour_accuracy']} | {out['ssn_scan']['files_scanned']} / "
            f"{out['ssn_scan']['files_with_full_ssn']} |\n"
        )


if __name__ == "__main__":
    main()
