"""Helpers for enforcement tests: a store with an SSA master, and loading files through the real loader."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipeline import store
from pipeline.cycle.inbound import Partner
from pipeline.cycle.load import LoadContext, load_file
from tests.pipeline.cycle.builder import MASTER

ROOT = Path(__file__).resolve().parents[3]
CASES = ROOT / "tests" / "cases" / "enforcement"
GOLDEN = ROOT / "tests" / "golden" / "enforcement"
PARTNERS = {
    "KS": Partner("KS", "state", ()),
    "MO": Partner("MO", "state", ()),
    "FI-111111111": Partner("FI-111111111", "fi", ("msfidm_match",)),
}


def new_store(home: Path, master=MASTER) -> duckdb.DuckDBPyConnection:
    home.mkdir(parents=True, exist_ok=True)
    con = store.connect(home)
    rows = pl.DataFrame(
        [
            {
                "file_id": 0,
                "line_no": i,
                "ssn": s,
                "first_name": f,
                "last_name": ln,
                "dob": date(int(d[:4]), int(d[4:6]), int(d[6:])),
            }
            for i, (s, f, ln, d) in enumerate(master, 1)
        ]
    )
    store.insert_frame(con, "ssa_master", rows)
    for p in PARTNERS.values():
        con.execute("INSERT OR REPLACE INTO partners VALUES (?, ?, ?)", [p.id, p.kind, list(p.file_types)])
    return con


def load(con: duckdb.DuckDBPyConnection, home: Path, cycle: str, submitter: str, name: str, data: bytes):
    """Put one file in work/<cycle>/<submitter>/ and load it with the real loader."""
    path = home / "work" / cycle / submitter / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    day = date(int(cycle[:4]), int(cycle[4:6]), int(cycle[6:8]))
    con.execute("INSERT OR IGNORE INTO cycles VALUES (?, ?, 1, 'running')", [cycle, day])
    return load_file(LoadContext(con, cycle, day, PARTNERS), path)


def cycle_id(i: int) -> str:
    return f"202611{i:02d}-01"
