"""`make run`: copy sample_files/ into a FRESH home, run one full cycle with a fixed --as-of, print the
cycle summary and where to look."""

from __future__ import annotations

import argparse
import os
import shutil
from datetime import date
from pathlib import Path

SAMPLE_AS_OF = "2026-11-02"


def fresh_home(samples: Path, home: Path) -> Path:
    if home.exists():
        shutil.rmtree(home)
    shutil.copytree(samples, home)
    return home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=Path, default=Path("sample_files"))
    parser.add_argument("--home", type=Path, default=Path("var"))
    parser.add_argument("--as-of", default=SAMPLE_AS_OF)
    args = parser.parse_args()
    if not (args.samples / "inbound").is_dir():
        raise SystemExit(f"{args.samples}/inbound not found: run `make samples` first")
    os.environ.setdefault("FPLS_POLL_SECONDS", "0")  # a fresh copy: every file is complete
    from pipeline.cli.cycle_commands import print_summary
    from pipeline.cycle.run import run_cycle

    home = fresh_home(args.samples, args.home)
    summary = run_cycle(home, date.fromisoformat(args.as_of))
    if summary is None:
        print(f"nothing ready in {home}/inbound/")
        return
    print_summary(summary)
    cycle = summary.cycle_id
    print(f"\nhome: {home}/")
    print(f"  outbound/<recipient>/{cycle}/   response files (fpls read FILE --record FN) + manifest.json")
    print(f"  archive/{cycle}/ and quarantine/{cycle}/   originals; refused files with FILE.reason.json")
    print(f"  reports/{cycle}/index.html        national report; <ST>.html per state, CSVs, ASAP letters")
    print(f"  logs/{cycle}.jsonl               structured log (SSNs masked)")
    print(f"  fpls.duckdb                       the store (fpls query person --home {home} --member ID)")


if __name__ == "__main__":
    main()
