"""W-4 ingest benchmark: 1,000,000 records of 801 bytes; raw byte read vs fpls read + validate.

Machine load matters (two cores): the load average at the start is printed with the results.

Each step runs in its own process so its peak RSS is its own. Results are appended to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse

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
start = time.perf_counter(); r = validate_file("{path}", compiled={compiled})
assert r.records == r.accepted + r.rejected
print(json.dumps({{"seconds": time.perf_counter() - start, "records": r.records, "accepted": r.accepted,
                  "status": r.file_status}}))
"""


def best_of(code: str, runs: int) -> dict:
    results = [measure(code) for _ in range(runs)]
    best = min(results, key=lambda r: r["seconds"])
    best["peak_rss_mib"] = max(r["peak_rss_mib"] for r in results)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = DATA / f"w4_{args.records}.dat"
    if not path.exists():
        measure(MAKE_FILE.format(n=args.records, path=path))
    size_mb = path.stat().st_size / 1e6
    raw = best_of(RAW_READ.format(path=path), args.runs)
    lines = best_of(POLARS_LINES.format(path=path), args.runs)
    full = best_of(VALIDATE.format(path=path, compiled=True), args.runs)
    plain = best_of(VALIDATE.format(path=path, compiled=False), args.runs)
    n = args.records + 2
    rows = [
        "| step | seconds | records/s | MB/s | ratio to raw read | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in [
        ("(a) raw read of the bytes (64 MiB readinto)", raw),
        ("(a2) polars scan of the lines only", lines),
        ("(b) fpls read + validate (compiled scanner, the default)", full),
        ("(b2) fpls read + validate, polars path only (compiled=False)", plain),
    ]:
        rows.append(
            f"| {name} | {r['seconds']:.2f} | {n / r['seconds']:,.0f} | {size_mb / r['seconds']:,.0f} | "
            f"{raw['seconds'] / r['seconds']:.2f} | {r['peak_rss_mib']:,} |"
        )
    rows.append(
        f"\nFile: {args.records:,} W4 records + header + trailer, {size_mb:,.0f} MB; best of {args.runs} runs; "
        f"validation result: {full['status']}, {full['accepted']:,} accepted. Ratio b/a = "
        f"{raw['seconds'] / full['seconds']:.2f}; b/a2 = {lines['seconds'] / full['seconds']:.2f}."
    )
    append_section("W-4 ingest (issue 3)", "make bench  (python -m bench.bench_ingest)", rows)


if __name__ == "__main__":
    main()
