"""Run `fpls ARGV` inside a fresh interpreter, then a few lines of Python in the same process, to see what the
command left behind (modules imported, say); returns everything the process printed."""

from __future__ import annotations

import subprocess
import sys

from tests.pipeline.cycle.conftest import ROOT

PROBE = """
import sys
from pipeline.cli import entry
sys.argv = ["fpls", *sys.argv[1:]]
try:
    entry.main()
except SystemExit:
    pass
sys.stdout.flush()
print()
"""


def probe_fpls(argv: tuple[str, ...], after: str) -> str:
    code = PROBE + after
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=ROOT).stdout
