"""Build reports/<cycle>/: index.html (national), <ST>.html per state, <ST>_<query>.csv, letters.

`build_reports(con, home, cycle_id)` runs every named query once over the whole store, splits the
rows by state, and writes each state's page from its own rows only. It writes into a temporary
directory (every file fsynced) and swaps it in, so a half-built report never replaces a good one; files
another stage put in the folder (the employer reporting CSV) are kept.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipeline.safeguards.faults import checkpoint, disk_full_check
from reports import letters, metrics
from reports.render import Page, render_page
from reports.sections import SECTIONS, query_names

NATIONAL = "US"
LETTERS_QUERY = "asap_letters"


@dataclass
class ReportResult:
    cycle_id: str
    directory: str
    index: str
    states: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    csv_files: int = 0
    letters: int = 0
    not_available: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


def latest_cycle(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT max(cycle_id) FROM cycles").fetchall()
    return row[0][0] if row else None


def _run_all(con, cycle_id: str) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    columns = metrics.store_columns(con)
    frames, missing = {}, {}
    for name in dict.fromkeys(query_names() + [LETTERS_QUERY]):
        lacks = metrics.missing(name, columns)
        if lacks:
            missing[name] = ", ".join(lacks)
        else:
            frames[name] = metrics.run(con, name, cycle_id)
    return frames, missing


def _split(frames: dict[str, pl.DataFrame]) -> dict[str, dict[str, pl.DataFrame]]:
    """query -> state -> that state's rows (one pass over each frame)."""
    out = {}
    for name, df in frames.items():
        parts = df.partition_by("state", as_dict=True, maintain_order=True) if df.height else {}
        out[name] = {k[0]: v for k, v in parts.items()}
    return out


def _national_frames(frames: dict[str, pl.DataFrame], by_state) -> dict[str, pl.DataFrame]:
    mode = {t.query: t.national for s in SECTIONS for t in s.tables}
    out = {}
    for name, df in frames.items():
        m = mode.get(name, "none")
        if m == "all":
            out[name] = df
        elif m == "totals":
            out[name] = by_state[name].get(NATIONAL, df.clear())
    return out


def _state_frames(state: str, frames, by_state) -> dict[str, pl.DataFrame]:
    return {name: by_state[name].get(state, df.clear()) for name, df in frames.items()}


def _write_csvs(out: Path, scope: str, page_frames: dict[str, pl.DataFrame]) -> dict[str, str]:
    names = {}
    for name, df in page_frames.items():
        file = f"{scope}_{name}.csv"
        _write(out / file, df.write_csv().encode())
        names[name] = file
    return names


def _write(path: Path, data: bytes) -> Path:
    """One report file, fsynced (the cycle is marked done only when its reports are durable)."""
    disk_full_check("reports")
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    checkpoint("reports")
    return path


def _write_page(out: Path, file: str, page: Page) -> Path:
    return _write(out / file, render_page(page).encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_in(tmp: Path, final: Path) -> None:
    """Replace final by tmp; a file only the old folder has (written by another stage: the enforcement stage's
    employer_reporting_<month>.csv and mser_<month>.csv) moves across."""
    if final.is_dir():
        for path in final.iterdir():
            if path.is_file() and not (tmp / path.name).exists():
                os.replace(path, tmp / path.name)
    _fsync_dir(tmp)
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    _fsync_dir(final.parent)
    shutil.rmtree(old, ignore_errors=True)


def build_reports(con: duckdb.DuckDBPyConnection, home: Path | str, cycle_id: str | None = None) -> ReportResult:
    """(Re)build reports/<cycle>/ for one cycle (default: the latest) from the store."""
    started = time.monotonic()
    home = Path(home)
    cycle_id = cycle_id or latest_cycle(con)
    if not cycle_id:
        raise LookupError("the store has no cycle yet")
    frames, missing = _run_all(con, cycle_id)
    states = metrics.run(con, "states", cycle_id).get_column("state").to_list()
    cyc = metrics.run(con, "cycles", cycle_id).filter(pl.col("cycle_id") == cycle_id)
    as_of = str(cyc.get_column("as_of")[0]) if cyc.height else ""
    by_state = _split(frames)

    final = home / "reports" / cycle_id
    tmp = final.with_name(f".{cycle_id}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    result = ReportResult(cycle_id, str(final), str(final / "index.html"), states, not_available=sorted(missing))

    nat = _national_frames(frames, by_state)
    csvs = _write_csvs(tmp, NATIONAL, nat)
    _write_page(
        tmp,
        "index.html",
        Page(
            NATIONAL,
            f"fpls statistical report - national - cycle {cycle_id}",
            cycle_id,
            as_of,
            states,
            nat,
            missing,
            csvs,
        ),
    )
    pages, n_csv, n_letters = ["index.html"], len(csvs), 0
    for st in states:
        sf = _state_frames(st, frames, by_state)
        csvs = _write_csvs(tmp, st, sf)
        n_csv += len(csvs)
        if LETTERS_QUERY in sf:
            _write(tmp / f"{st}_asap_letters.txt", letters.render_letters(sf[LETTERS_QUERY], st).encode("utf-8"))
            n_letters += sf[LETTERS_QUERY].filter(pl.col("mailing") == "mailed").height
        _write_page(
            tmp,
            f"{st}.html",
            Page(st, f"fpls statistical report - {st} - cycle {cycle_id}", cycle_id, as_of, states, sf, missing, csvs),
        )
        pages.append(f"{st}.html")
    _swap_in(tmp, final)
    result.pages, result.csv_files, result.letters = pages, n_csv, n_letters
    result.seconds = round(time.monotonic() - started, 2)
    return result
