"""Fingerprint what a cycle hands to people: outbound files, reports and `fpls eval --json`.

Run it before and after a change that must not alter behaviour; the two fingerprints must be equal.

    python -m bench.same_outputs --persons 20000 --out /tmp/fp-before.json
    ... change ...
    python -m bench.same_outputs --persons 20000 --compare /tmp/fp-before.json

`--persons 0` fingerprints a cycle over sample_files/ (the `make run` home). Everything runs through
the `fpls` CLI in child processes, so the script does not depend on how the engine is organised.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-02"
FINGERPRINTED = ("outbound", "reports")


def fpls(*args: str, env: dict | None = None) -> str:
    exe = Path(sys.executable).with_name("fpls")
    done = subprocess.run([str(exe), *args], check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    return done.stdout


def make_home(persons: int, home: Path) -> None:
    if persons == 0:
        shutil.copytree(ROOT / "sample_files", home)
    else:
        fpls(
            "generate",
            "--persons",
            str(persons),
            "--states",
            "KS,MO,OK,TX",
            "--seed",
            "3",
            "--as-of",
            AS_OF,
            "--out",
            str(home),
        )


def fingerprint(home: Path) -> dict[str, str]:
    files = sorted(p for top in FINGERPRINTED for p in (home / top).rglob("*") if p.is_file())
    prints = {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    return prints


def run_and_fingerprint(persons: int) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="fpls-same-") as tmp:
        home = Path(tmp) / "home"
        make_home(persons, home)
        env = {**os.environ, "FPLS_POLL_SECONDS": "0"}
        fpls("run", "--home", str(home), "--as-of", AS_OF, env=env)
        prints = fingerprint(home)
        if (home / "truth.parquet").exists():
            prints["fpls eval --json"] = hashlib.sha256(
                fpls("eval", "--home", str(home), "--json").encode()
            ).hexdigest()
        return prints


def differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    names = sorted(set(before) | set(after))
    return [
        f"{n}: {'missing' if n not in after else 'new' if n not in before else 'differs'}"
        for n in names
        if before.get(n) != after.get(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=0, help="0 = sample_files/, else a generated home")
    parser.add_argument("--out", type=Path, help="write the fingerprint here")
    parser.add_argument("--compare", type=Path, help="compare with a fingerprint written earlier")
    args = parser.parse_args()
    prints = run_and_fingerprint(args.persons)
    if args.out:
        args.out.write_text(json.dumps(prints, indent=1, sort_keys=True))
    print(f"{len(prints)} outputs fingerprinted")
    if args.compare:
        diff = differences(json.loads(args.compare.read_text()), prints)
        print("\n".join(diff) or "identical")
        sys.exit(1 if diff else 0)


if __name__ == "__main__":
    main()
