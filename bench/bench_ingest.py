"""W-4 ingest benchmark: 1,000,000 records of 801 bytes; raw byte read vs fpls read + validate.

Machine load matters (two cores): the load average at the start is printed with the results.

Each step runs in its own process so its peak RSS is its own; the steps are interleaved round by round and
the table gives the median (and best) of the runs. Results are appended to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics

from bench.common import DATA, append_section, measure

MAKE_FILE = """
import json, numpy as np, polars as pl, datetime as dt
from pathlib import Path
from pipeline.files.layouts import load_layout
from pipeline.files.writer import write_fixed
n = {n}
rng = np.random.default_rng(1)
first = np.array(["JAMES","MARY","JOHN","PATRICIA","ROBERT","JENNIFER","MICHAEL","LINDA","WILLIAM","ELIZABETH"])
last = np.array(["SMITH","JOHNSON","WILLIAMS","BROWN","JONES","GARCIA","MILLER","DAVIS","RODRIGUEZ","MARTINEZ-LOPEZ"])
ssn = pl.Series(rng.integers(1_000_000, 665_999_999, n)).cast(pl.Utf8).str.pad_start(9, "0")
w4 = pl.DataFrame({{
    "ssn": ssn, "first_name": first[rng.integers(0, 10, n)], "last_name": last[rng.integers(0, 10, n)],
    "address_line_1": pl.Series(rng.integers(1, 9999, n)).cast(pl.Utf8) + " MAIN ST", "city": "TOPEKA", "state": "KS",
    "zip": "66601", "dob": dt.date(1985, 3, 9), "hire_date": dt.date(2026, 10, 1), "employer_fein": "480123456",
    "employer_name": "ACME MANUFACTURING INC", "employer_address_line_1": "100 INDUSTRIAL PKWY",
    "employer_city": "WICHITA", "employer_state": "KS", "employer_zip": "67202",
}})
header = pl.DataFrame({{"transmitter_state_fips": ["20"], "date_stamp": [dt.date(2026, 11, 1)], "batch_number": ["1"]}})
path = Path("{path}"); path.parent.mkdir(parents=True, exist_ok=True)
write_fixed(path, load_layout("ndnh_w4"), [("H4", header), ("W4", w4), ("T4", pl.DataFrame({{"record_count": [n]}}))])
print(json.dumps({{"bytes": path.stat().st_size}}))
"""

RAW_READ = """
import json, time
buf = bytearray(64 << 20); start = time.perf_counter(); total = 0
with open("{path}", "rb", buffering=0) as fh:
    while (n := fh.readinto(buf)):
        total += n
print(json.dumps({{"seconds": time.perf_counter() - start, "bytes": total}}))
"""

POLARS_LINES = """
import json, time
from pathlib import Path
from pipeline.files.lines import iter_line_batches
start = time.perf_counter(); n = sum(b.height for b in iter_line_batches(Path("{path}")))
print(json.dumps({{"seconds": time.perf_counter() - start, "records": n}}))
"""

VALIDATE = """
import json, time
from pipeline.files.validate import validate_file
{warm}
start = time.perf_counter(); r = validate_file("{path}", compiled={compiled})
assert r.records == r.accepted + r.rejected
print(json.dumps({{"seconds": time.perf_counter() - start, "records": r.records, "accepted": r.accepted,
                  "status": r.file_status}}))
"""


# The compiled scanner imports pyarrow when the first fixed-width file is read (~0.1-0.2 s here): a process
# cost like importing polars, which every step pays before its timer. (b') shows the figure without it.
WARM = "import pipeline.files.fixedscan"


def rounds(codes: dict[str, str], runs: int) -> dict[str, list[dict]]:
    """Each step `runs` times, interleaved round by round (a, a2, b, b2, a, a2, ...), so that a change in the
    machine's load during the benchmark touches every step alike; each run is a fresh process."""
    results: dict[str, list[dict]] = {name: [] for name in codes}
    for _ in range(runs):
        for name, code in codes.items():
            r = measure(code)
            r["load_average"] = os.getloadavg()[0]
            results[name].append(r)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-append", action="store_true", help="print the table only")
    args = parser.parse_args()
    path = DATA / f"w4_{args.records}.dat"
    if not path.exists():
        measure(MAKE_FILE.format(n=args.records, path=path))
    size_mb = path.stat().st_size / 1e6
    steps = {
        "(a) raw read of the bytes (64 MiB readinto)": RAW_READ.format(path=path),
        "(a2) polars scan of the lines only": POLARS_LINES.format(path=path),
        "(b) fpls read + validate (compiled scanner, the default)": VALIDATE.format(path=path, compiled=True, warm=""),
        "(b') as (b), the scanner's libraries (pyarrow, numpy, the C loop) imported before the timer": VALIDATE.format(
            path=path, compiled=True, warm=WARM
        ),
        "(b2) fpls read + validate, polars path only (compiled=False)": VALIDATE.format(
            path=path, compiled=False, warm=""
        ),
    }
    results = rounds(steps, args.runs)
    raw, lines, full, warm = (results[name] for name in list(steps)[:4])
    med = statistics.median
    n = args.records + 2
    rows = [
        "| step | median s | best s | records/s (median) | MB/s (median) | ratio to raw read (median of runs) | "
        "peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        seconds = [r["seconds"] for r in runs]
        ratio = med(a["seconds"] / r["seconds"] for a, r in zip(raw, runs))
        rows.append(
            f"| {name} | {med(seconds):.3f} | {min(seconds):.3f} | {n / med(seconds):,.0f} | "
            f"{size_mb / med(seconds):,.0f} | {ratio:.2f} | {max(r['peak_rss_mib'] for r in runs):,} |"
        )
    ratios = [a["seconds"] / b["seconds"] for a, b in zip(raw, full)]
    loads = [r["load_average"] for rs in results.values() for r in rs]
    rows.append(
        f"\nFile: {args.records:,} W4 records + header + trailer, {size_mb:,.0f} MB, read from the page cache by every "
        f"step; {args.runs} rounds, each step a fresh process per round, steps interleaved. Validation result: "
        f"{full[0]['status']}, {full[0]['accepted']:,} accepted. Ratio b/a per round: "
        + ", ".join(f"{x:.2f}" for x in ratios)
        + f" (median {med(ratios):.2f}); b'/a per round: "
        + ", ".join(f"{a['seconds'] / b['seconds']:.2f}" for a, b in zip(raw, warm))
        + f"; b/a2 median {med(a['seconds'] / b['seconds'] for a, b in zip(lines, full)):.2f}."
        f" 1-min load average during the runs: {min(loads):.2f}–{max(loads):.2f}."
    )
    if args.no_append:
        print("\n".join(rows))
    else:
        append_section("W-4 ingest (issue 3)", "make bench  (python -m bench.bench_ingest)", rows)


if __name__ == "__main__":
    main()
