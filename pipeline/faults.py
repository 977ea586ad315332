"""Fault hook for restart tests: `FPLS_FAULT=stage:n` kills the process (SIGKILL) at the n-th checkpoint
named `stage` (claim, load, outbound, archive, ...). Unset in normal operation: a checkpoint is a no-op."""
from __future__ import annotations

import os
import signal
from collections import Counter

_hits: Counter[str] = Counter()


def checkpoint(stage: str) -> None:
    spec = os.environ.get("FPLS_FAULT")
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name != stage:
        return
    _hits[stage] += 1
    if _hits[stage] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
