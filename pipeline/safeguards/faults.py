"""Fault hooks for the restart and fault-campaign tests. Unset in normal operation: every hook is a no-op.

`FPLS_FAULT=stage:n` kills the process (SIGKILL) at the n-th checkpoint named `stage` (claim, load,
outbound, archive, ...); `FPLS_FAULT=enospc:n` makes the n-th durable file write fail with ENOSPC, as
a full disk would, at the writer's boundary (pipeline/files/writer.py) and the report writer;
`FPLS_FAULT=sleep:stage:seconds` pauses at the first checkpoint named `stage` (a long cycle, for the tests of
operators at work during a cycle)."""

from __future__ import annotations

import errno
import os
import signal
import time
from collections import Counter

_hits: Counter[str] = Counter()


def checkpoint(stage: str) -> None:
    spec = os.environ.get("FPLS_FAULT")
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name == "sleep":
        where, _, seconds = nth.partition(":")
        if where == stage and not _hits["sleep"]:
            _hits["sleep"] += 1
            time.sleep(float(seconds or 1))
        return
    if name != stage:
        return
    _hits[stage] += 1
    if _hits[stage] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def disk_full_check(where: str = "") -> None:
    """Called by the durable writers before each write: raise ENOSPC on the n-th when asked to
    (`enospc:n` counts every durable write, `enospc-reports:n` only the report writer's)."""
    spec = os.environ.get("FPLS_FAULT", "")
    name, _, nth = spec.partition(":")
    if name not in ("enospc", f"enospc-{where}"):
        return
    _hits[name] += 1
    if _hits[name] == int(nth or 1):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
