"""Play a generated history: a home made by `fpls generate --cycles K` holds cycle 1 in `inbound/` and the
later cycles in `cycles/NN/inbound/` with their dates in `cycles.yaml`. `replay` runs cycle 1, then drops
each later cycle's files into `inbound/` (a rename, as a partner's upload would land) and runs that cycle
on its date, until the schedule is done. A cycle already in the store (same date) is not run again, so an
interrupted replay resumes where it stopped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml

from pipeline import store
from pipeline.cycle.run import CycleSummary, run_cycle


def schedule(home: Path) -> list[tuple[int, date, Path]]:
    """(cycle number, date, folder of its inbound files) from cycles.yaml; [] for a one-cycle home."""
    path = Path(home) / "cycles.yaml"
    if not path.is_file():
        return []
    rows = (yaml.safe_load(path.read_text()) or {}).get("cycles", [])
    return [(int(r["cycle"]), date.fromisoformat(str(r["as_of"])), Path(home) / r["inbound"]) for r in rows]


def _done_dates(home: Path) -> set[date]:
    if not (Path(home) / store.DB_NAME).is_file():
        return set()
    con = store.connect(home)
    try:
        return {r[0] for r in con.execute("SELECT as_of FROM cycles WHERE status = 'done'").fetchall()}
    finally:
        con.close()


def _drop(src: Path, inbound: Path) -> int:
    """Move every file of src/<submitter>/ into inbound/<submitter>/ (data files first, .done markers last)."""
    moved = 0
    files = sorted(p for p in src.rglob("*") if p.is_file())
    for path in sorted(files, key=lambda p: p.name.endswith(".done")):
        dest = inbound / path.relative_to(src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, dest)
        moved += 1
    return moved


def replay(
    home: Path, until: int | None = None, on_cycle: Callable[[CycleSummary], None] | None = None
) -> list[CycleSummary]:
    """Run every scheduled cycle not yet done (up to cycle `until`), in order."""
    home = Path(home)
    plan = schedule(home) or [(1, None, home / "inbound")]
    done, out = _done_dates(home), []
    for number, day, folder in plan:
        if until is not None and number > until:
            break
        if day is not None and day in done:
            continue
        if folder != home / "inbound" and folder.is_dir():
            _drop(folder, home / "inbound")
        summary = run_cycle(home, day)
        if summary is not None:
            out.append(summary)
            if on_cycle:
                on_cycle(summary)
    return out
