"""Benchmark `build_reports` on a synthetic store of N persons (default 1,000,000) built directly in DuckDB.

    .venv/bin/python -m bench.bench_reports [--persons 1000000] [--states 10] [--keep DIR]

The store has the shape a cycle leaves behind: FCR persons (1 NCP + 1 CP + children per case), SSN
validity history, 4 quarters of QW wages + W-4 new hires + UI for most NCPs, NDNH matches, locate
requests, the file ledger and rejects, and a case financial snapshot per case. Prints one JSON line
and appends the figures to bench/REPORTS_RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pipeline import store

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "REPORTS_RESULTS.md"
CYCLE, AS_OF = "20261102-01", "2026-11-02"
STATES = ["KS", "MO", "OK", "TX", "CA", "NY", "FL", "PA", "OH", "GA", "IL", "MI", "NC", "NJ", "VA", "WA"]


def _fill(con, persons: int, states: list[str]) -> None:
    n_cases = persons // 3
    st = "list_value(" + ", ".join(f"'{s}'" for s in states) + f")[1 + CAST(c % {len(states)} AS INTEGER)]"
    con.execute(f"""INSERT INTO cycles VALUES ('{CYCLE}', DATE '{AS_OF}', 1, 'done')""")
    con.execute("INSERT INTO partners SELECT unnest(?), 'state', []", [states])
    # persons: per case one NP, one CP and one child (persons ~= 3 x cases)
    con.execute(f"""INSERT INTO fcr_persons BY NAME
        SELECT {st} AS state, 'C' || lpad(c::VARCHAR, 10, '0') AS case_id,
               ['N', 'P', 'K'][1 + CAST(r AS INTEGER)] || lpad(c::VARCHAR, 10, '0') AS member_id, ['NP', 'CP', 'CH'][1 + CAST(r AS INTEGER)] AS participant_type,
               lpad((100000000 + c * 3 + r)::VARCHAR, 9, '0') AS ssn,
               CASE WHEN hash(c, r) % 20 = 0 THEN NULL ELSE lpad((100000000 + c * 3 + r)::VARCHAR, 9, '0') END AS verified_ssn,
               CASE WHEN hash(c, r) % 20 = 0 THEN NULL ELSE 'V' END AS validity_code,
               'FIRST' AS first_name, 'LAST' AS last_name, 'active' AS status, '{CYCLE}' AS added_cycle, '{CYCLE}' AS changed_cycle
        FROM range({n_cases}) t(c), range(3) u(r)""")
    con.execute(f"""INSERT INTO ssn_validity_history BY NAME SELECT '{CYCLE}' AS cycle_id, state, case_id, member_id,
        validity_code FROM fcr_persons""")
    con.execute(f"""INSERT INTO fcr_person_input BY NAME SELECT '{CYCLE}' AS cycle_id, state, 'A' AS action_type,
        case_id, member_id FROM fcr_persons""")
    # QW wages: 4 quarters, ~80 % of NCPs earn in a quarter; W-4 for 5 %; UI for 3 %
    con.execute(f"""INSERT INTO ndnh BY NAME
        SELECT row_number() OVER () AS ndnh_id, '{CYCLE}' AS cycle_id, 'H98' AS source, verified_ssn AS ssn, verified_ssn,
               p AS reporting_period, (200000 + hash(member_id, p) % 1500000)::BIGINT AS wage_amount,
               lpad((hash(member_id) % 5000)::VARCHAR, 9, '0') AS employer_fein
        FROM fcr_persons, (VALUES ('20254'), ('20261'), ('20262'), ('20263')) q(p)
        WHERE participant_type = 'NP' AND verified_ssn IS NOT NULL AND hash(member_id, p) % 10 < 8""")
    con.execute(f"""INSERT INTO ndnh BY NAME
        SELECT 100000000 + row_number() OVER () AS ndnh_id, '{CYCLE}' AS cycle_id, s AS source, verified_ssn AS ssn,
               verified_ssn, CASE WHEN s = 'H97' THEN '20263' END AS reporting_period,
               CASE WHEN s = 'H99' THEN DATE '{AS_OF}' - INTERVAL 20 DAY END AS hire_date,
               CASE WHEN s = 'H97' THEN 120000 END AS benefit_amount,
               CASE WHEN s = 'H99' THEN '990000001' END AS employer_fein
        FROM fcr_persons, (VALUES ('H99'), ('H97')) v(s)
        WHERE participant_type = 'NP' AND verified_ssn IS NOT NULL
          AND hash(member_id, s) % 100 < CASE WHEN s = 'H99' THEN 5 ELSE 3 END""")
    con.execute(f"""INSERT INTO matches BY NAME SELECT '{CYCLE}' AS cycle_id, state, case_id, member_id,
        ['N', 'P', 'L'][1 + CAST(hash(member_id) % 3 AS INTEGER)] AS match_type, ['H97', 'H98', 'H99'][1 + CAST(hash(member_id, 1) % 3 AS INTEGER)] AS source,
        1 AS ndnh_id FROM fcr_persons WHERE participant_type = 'NP' AND hash(member_id, 7) % 5 = 0""")
    con.execute(f"""INSERT INTO locate_requests BY NAME SELECT '{CYCLE}' AS cycle_id, state, case_id, member_id
        FROM fcr_persons WHERE participant_type = 'NP' AND hash(member_id, 9) % 50 = 0""")
    con.execute(f"""INSERT INTO file_ledger BY NAME SELECT i AS file_id, '{CYCLE}' AS cycle_id,
        CASE WHEN i % 3 = 0 THEN s WHEN i % 3 = 1 THEN 'SWA-' || s ELSE 'EMP-' || i END AS submitter,
        'F' || i AS file_name, 'fcr_input' AS layout, 'loaded' AS status, 10000 AS records, 9900 AS accepted, 100 AS rejected
        FROM (SELECT i, list_value({", ".join(repr(s) for s in states)})[1 + CAST(i % {len(states)} AS INTEGER)] AS s FROM range(1, 300) t(i))""")
    con.execute("""INSERT INTO rejects BY NAME SELECT 1 + i % 299 AS file_id, i AS line,
        ['REQUIRED', 'BAD_DATE', 'BAD_PATTERN'][1 + CAST(i % 3 AS INTEGER)] AS code, 'E' AS severity FROM range(30000) t(i)""")
    con.execute(f"""INSERT INTO case_financial BY NAME
        SELECT '{CYCLE}' AS cycle_id, 0 AS file_id, row_number() OVER () AS line_no, state, case_id, member_id,
               ssn AS ncp_ssn, first_name AS ncp_first_name, last_name AS ncp_last_name, 'N' AS case_type,
               40000 AS monthly_obligation, (hash(member_id) % 900000)::BIGINT AS arrears,
               CASE WHEN hash(member_id, 2) % 10 = 0 THEN NULL
                    ELSE DATE '{AS_OF}' - CAST(hash(member_id, 3) % 200 AS INTEGER) END AS last_payment_date,
               40000 AS last_payment_amount, DATE '{AS_OF}' AS as_of_date
        FROM fcr_persons WHERE participant_type = 'NP'""")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--states", type=int, default=10)
    ap.add_argument("--keep", type=Path, help="build the store in DIR and keep it")
    args = ap.parse_args()
    home = args.keep or Path(tempfile.mkdtemp(prefix="fpls-bench-reports-"))
    shutil.rmtree(home / store.DB_NAME, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    from reports.build import build_reports

    con = store.connect(home)
    t0 = time.perf_counter()
    _fill(con, args.persons, STATES[: args.states])
    fill_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = build_reports(con, home, CYCLE)
    build_s = time.perf_counter() - t1
    persons = con.execute("SELECT count(*) FROM fcr_persons").fetchall()[0][0]
    ndnh = con.execute("SELECT count(*) FROM ndnh").fetchall()[0][0]
    con.close()
    size = sum(f.stat().st_size for f in Path(result.directory).iterdir())
    out = {
        "persons": persons,
        "ndnh_rows": ndnh,
        "states": args.states,
        "store_fill_s": round(fill_s, 1),
        "build_reports_s": round(build_s, 2),
        "pages": len(result.pages),
        "csv_files": result.csv_files,
        "letters": result.letters,
        "report_mib": round(size / 2**20, 1),
    }
    print(json.dumps(out))
    _record(out)
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)


def _record(out: dict) -> None:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Report build benchmark\n\nCommand: `.venv/bin/python -m bench.bench_reports "
            "[--persons N] [--states S]` (synthetic store built directly in DuckDB, then "
            "`reports.build.build_reports`). Target: under 30 s for 1M persons.\n\n"
            "| when (UTC) | machine | load avg | persons | NDNH rows | states | build_reports s | pages | "
            "CSVs | letters | report MiB |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
        )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    machine = f"{os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"
    with RESULTS.open("a") as fh:
        fh.write(
            f"| {when} | {machine} | {os.getloadavg()[0]:.1f} | {out['persons']:,} | {out['ndnh_rows']:,} | {out['states']} | "
            f"{out['build_reports_s']} | {out['pages']} | {out['csv_files']} | {out['letters']:,} | "
            f"{out['report_mib']} |\n"
        )


if __name__ == "__main__":
    main()
