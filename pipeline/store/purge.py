"""Retention: remove what has outlived its purpose, and log what was removed.

Cycle folders (archive/, outbound/, quarantine/, work/) older than the operator's window go whole;
NDNH history past its legal retention (pipeline/store/retention.yaml) is deleted from the store. Every
removal is written to the store's `purge_log` (counts and bytes, never contents).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import duckdb
import polars as pl
import yaml

from pipeline.store import insert_frame, transaction


@dataclass
class PurgeResult:
    removed: list[dict] = field(default_factory=list)

    def add(self, kind: str, target: str, cutoff: date, items: int, size: int) -> None:
        self.removed.append({"kind": kind, "target": target, "cutoff": cutoff, "items": items, "bytes": size})


@cache
def rules() -> dict:
    return yaml.safe_load((Path(__file__).parent / "retention.yaml").read_text())


def _cycle_date(name: str) -> date | None:
    try:
        return date(int(name[:4]), int(name[4:6]), int(name[6:8]))
    except ValueError:
        return None


def _size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def old_cycle_folders(home: Path, cutoff: date) -> list[tuple[str, Path]]:
    """(kind, folder) of every cycle folder dated before the cutoff: <kind>/<cycle> or <kind>/<who>/<cycle>."""
    found = []
    for kind in rules()["folders"]:
        for folder in sorted((home / kind).glob("*")) + sorted((home / kind).glob("*/*")):
            day = _cycle_date(folder.name)
            if folder.is_dir() and day is not None and day < cutoff:
                found.append((kind, folder))
    return found


def months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, 28))


def purge(con: duckdb.DuckDBPyConnection, home: Path, older_than_days: int, today: date) -> PurgeResult:
    result = PurgeResult()
    cutoff = today - timedelta(days=older_than_days)
    for kind, folder in old_cycle_folders(home, cutoff):
        items, size = _size(folder)
        shutil.rmtree(folder)
        result.add(kind, str(folder.relative_to(home)), cutoff, items, size)
    ndnh_cutoff = months_before(today, int(rules()["ndnh_months"]))
    with transaction(con):
        gone = con.execute("SELECT count(*) FROM ndnh WHERE received < ?", [ndnh_cutoff]).fetchone()[0]
        con.execute("DELETE FROM ndnh WHERE received < ?", [ndnh_cutoff])
        result.add("ndnh", "store:ndnh", ndnh_cutoff, int(gone), 0)
        log = pl.DataFrame(result.removed).with_columns(pl.lit(today).alias("purged_on"))
        insert_frame(con, "purge_log", log)
    return result
