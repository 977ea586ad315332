"""`make run`: copy sample_files/ into a fresh home and process it (at this stage: validate every file)."""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from pipeline.validate import validate_file


def fresh_home(samples: Path, home: Path) -> Path:
    if home.exists():
        shutil.rmtree(home)
    shutil.copytree(samples, home)
    return home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=Path, default=Path("sample_files"))
    parser.add_argument("--home", type=Path, default=Path("var"))
    args = parser.parse_args()
    home = fresh_home(args.samples, args.home)
    files = sorted(p for p in (home / "inbound").rglob("*") if p.is_file() and p.suffix != ".done")
    print(f"{'submitter':<18} {'file':<36} {'layout':<20} {'status':<9} {'records':>8} {'accepted':>9} {'rejected':>9}")
    for path in files:
        r = validate_file(path)
        print(f"{path.parent.name:<18} {path.name:<36} {r.layout or '?':<20} {r.file_status:<9} "
              f"{r.records:>8} {r.accepted:>9} {r.rejected:>9}")
    print(f"\n{len(files)} files validated; home: {home}/ (inbound/ holds the copied sample files)")


if __name__ == "__main__":
    main()
