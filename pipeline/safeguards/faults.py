"""Fault hooks for the restart and fault-campaign tests. Unset in normal operation: every hook is a no-op.

`FPLS_FAULT=stage:n` kills the process (SIGKILL) at the n-th checkpoint named `stage` (claim, load,
outbound, archive, ...); `FPLS_FAULT=enospc:n` makes the n-th durable file write fail with ENOSPC, as
a full disk would, at the writer's boundary (pipeline/files/writer.py)."""

from __future__ import annotations

import errno
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


def disk_full_check() -> None:
    """Called by the durable writer before each write: raise ENOSPC on the n-th when asked to."""
    spec = os.environ.get("FPLS_FAULT", "")
    if not spec.startswith("enospc"):
        return
    _hits["enospc"] += 1
    if _hits["enospc"] == int(spec.partition(":")[2] or 1):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
