"""The operators' own access to full SSNs: every `--show-ssn` use is recorded, append-only, in
`<home>/logs/pii_access.jsonl` (when, which account, which command, what was asked, how many rows were shown).
The record itself holds no full SSN: the criteria are masked like every log."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from pathlib import Path

from pipeline.safeguards.masking import json_line

ACCESS_LOG = Path("logs") / "pii_access.jsonl"


def record_pii_access(home: Path, command: str, criteria: dict, rows: int) -> Path:
    """Append one access record (fsynced: an unrecorded disclosure must not happen silently)."""
    path = Path(home) / ACCESS_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        "account": getpass.getuser(),
        "sudo_user": os.environ.get("SUDO_USER"),
        "command": command,
        "criteria": {k: v for k, v in criteria.items() if v is not None},
        "rows_shown": rows,
    }
    line = json_line(row) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return path
