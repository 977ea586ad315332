"""Enforcement benchmark: one cycle over a generated home, the enforcement stage timings and
`enforcement_eval` against the truth.

    .venv/bin/fpls generate --persons 100000 --states KS,MO,OK,TX --seed 11 --as-of 2026-11-02 --out bench/data/enf100k
    FPLS_POLL_SECONDS=0 /usr/bin/time -v .venv/bin/python -m bench.bench_enforcement bench/data/enf100k 2026-11-02
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

from pipeline import store
from pipeline.enforcement import run as enforcement


def main(home: Path, as_of: date) -> dict:
    timings: dict[str, float] = {}
    original = enforcement.apply_enforcement

    def timed_apply(con, cycle_id, day):
        from pipeline.enforcement import insurance, msfidm, notices, offset, passport

        result = enforcement.EnforcementResult(cycle_id)
        for name, fn in (
            ("offset", lambda: offset.run_offset(con, cycle_id)),
            ("passport", lambda: passport.run_passport(con, cycle_id)),
            ("msfidm", lambda: msfidm.run_msfidm(con, cycle_id)),
            ("insurance", lambda: insurance.run_insurance(con, cycle_id)),
            ("notices", lambda: notices.run_notices(con, cycle_id, day)),
        ):
            t = time.perf_counter()
            setattr(result, name, fn())
            timings[name] = round(time.perf_counter() - t, 2)
        return result

    enforcement.apply_enforcement = timed_apply
    from pipeline.cycle.run import run_cycle

    t = time.perf_counter()
    summary = run_cycle(home, as_of)
    timings["cycle_total"] = round(time.perf_counter() - t, 2)
    enforcement.apply_enforcement = original
    con = store.connect(home)
    try:
        t = time.perf_counter()
        metrics = enforcement_eval_safe(con, home)
        timings["eval"] = round(time.perf_counter() - t, 2)
        counts = {
            r[0]: r[1]
            for r in con.execute("SELECT source, count(*) FROM enforcement_matches GROUP BY 1 ORDER BY 1").fetchall()
        }
        review = {
            r[0]: r[1]
            for r in con.execute("SELECT source, count(*) FROM enforcement_review GROUP BY 1 ORDER BY 1").fetchall()
        }
        debtors = con.execute("SELECT count(*) FROM debtors WHERE status = 'active'").fetchone()[0]
        offset = {r[0]: r[1] for r in con.execute("SELECT status, count(*) FROM offset_results GROUP BY 1").fetchall()}
    finally:
        con.close()
    return {
        "cycle": summary.cycle_id if summary else None,
        "timings_s": timings,
        "active_debtors": debtors,
        "offset_results": offset,
        "matches": counts,
        "review": review,
        "metrics": metrics,
    }


def enforcement_eval_safe(con, home: Path) -> dict:
    from pipeline.evaluation.enforcement import enforcement_eval

    return enforcement_eval(con, home / "truth.parquet")


if __name__ == "__main__":
    out = main(Path(sys.argv[1]), date.fromisoformat(sys.argv[2]))
    print(json.dumps(out, indent=2, default=str))
