"""Shared benchmark plumbing: run a step in a child process, time it, read its peak RSS, record markdown."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
BENCHMARKS = ROOT / "BENCHMARKS.md"


def machine() -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem_gib:.0f} GiB RAM, {platform.machine()}, Python {platform.python_version()}"


def measure(code: str) -> dict:
    """Run `code` in a fresh interpreter; it must print one JSON object. Adds seconds and peak RSS (MiB)."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code + _REPORT_RSS], check=True, capture_output=True, text=True, cwd=ROOT
    )
    seconds = time.perf_counter() - start
    *_, result_line, rss_line = out.stdout.strip().splitlines()
    result = json.loads(result_line)
    result.setdefault("seconds", seconds)
    result["peak_rss_mib"] = round(json.loads(rss_line)["rss_kib"] / 1024)
    return result


# The child reports its own peak RSS: RUSAGE_CHILDREN would mix in every earlier child.
_REPORT_RSS = """
import json as _j, resource as _r
print(_j.dumps({"rss_kib": _r.getrusage(_r.RUSAGE_SELF).ru_maxrss}))
"""


def append_section(title: str, command: str, lines: list[str]) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    text = [
        f"\n## {title}\n",
        f"Measured {stamp} on {machine()} (1-min load average {load:.2f} at the end) with `{command}`.\n",
        *lines,
        "",
    ]
    with BENCHMARKS.open("a") as fh:
        fh.write("\n".join(text) + "\n")
    print("\n".join(text))
