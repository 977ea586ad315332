"""Reports over time: `fpls report --month 2026-11` (monthly NDNH and MSER reports) and `fpls report --half
2026H2` (semi-annual State Profile), written to `reports/<period>/` (e.g. reports/2026-11/, reports/2026H2/):

    index.html                      links to every page of the period
    <report>_US.html, <report>_<ST>.html    national and per-state pages (report: ndnh, mser, profile)
    <report>_<ST>_<query>.csv       the rows of every table on the page

A cycle belongs to the period its date falls in. Like the cycle reports, every number is a cell of a named
query (reports/periodic.sql with $start / $end; the segmentation queries run on the period's last cycle),
SSN columns are masked by the metrics layer, a state's page holds that state's rows only, and the folder is
built aside and swapped in whole.
"""

from __future__ import annotations

import calendar
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from reports import metrics
from reports.render import Page, render_page
from reports.sections_periodic import CYCLE_QUERIES, REPORTS

NATIONAL = "US"


@dataclass(frozen=True)
class Period:
    kind: str  # month | half
    label: str  # 2026-11 | 2026H2
    start: date
    end: date


def parse_month(text: str) -> Period:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"a month is YYYY-MM, got {text!r}")
    y, mo = int(m.group(1)), int(m.group(2))
    return Period("month", text, date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1]))


def parse_half(text: str) -> Period:
    m = re.fullmatch(r"(\d{4})H([12])", (text or "").upper())
    if not m:
        raise ValueError(f"a half-year is YYYYH1 or YYYYH2, got {text!r}")
    y, h = int(m.group(1)), int(m.group(2))
    return Period("half", f"{y}H{h}", date(y, 1 if h == 1 else 7, 1), date(y, 6, 30) if h == 1 else date(y, 12, 31))


@dataclass
class PeriodResult:
    period: str
    directory: str
    index: str
    cycles: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    csv_files: int = 0
    not_available: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # report -> seconds to build it

    def to_json(self) -> dict:
        return asdict(self)


def period_cycles(con: duckdb.DuckDBPyConnection, period: Period) -> list[tuple[str, date]]:
    return con.execute(
        "SELECT cycle_id, as_of FROM cycles WHERE as_of BETWEEN ? AND ? AND status = 'done' ORDER BY cycle_id",
        [period.start, period.end],
    ).fetchall()


def _queries(sections) -> list[str]:
    return list(dict.fromkeys(t.query for s in sections for t in s.tables))


def _run(con, names: list[str], period: Period, last_cycle: str) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    columns = metrics.store_columns(con)
    frames, missing = {}, {}
    for name in names:
        lacks = metrics.missing(name, columns)
        if lacks:
            missing[name] = ", ".join(lacks)
        elif name in CYCLE_QUERIES:
            frames[name] = metrics.run(con, name, last_cycle)
        else:
            frames[name] = metrics.run(con, name, last_cycle, start=period.start, end=period.end)
    return frames, missing


def _scope_frames(frames: dict[str, pl.DataFrame], sections, scope: str) -> dict[str, pl.DataFrame]:
    mode = {t.query: t.national for s in sections for t in s.tables}
    out = {}
    for name, df in frames.items():
        if scope != NATIONAL:
            out[name] = df.filter(pl.col("state") == scope)
        elif mode.get(name) == "all":
            out[name] = df
        elif mode.get(name) == "totals":
            out[name] = df.filter(pl.col("state") == NATIONAL)
    return out


def _nav(report: str, states: list[str]) -> list[tuple[str, str]]:
    return [("Period index", "index.html"), ("National", f"{report}_US.html")] + [
        (st, f"{report}_{st}.html") for st in states
    ]


def _index(period: Period, cycles: list[str], pages: list[str]) -> str:
    links = "\n".join(f'<li><a href="{p}">{p}</a></li>' for p in pages)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>fpls reports {period.label}</title>'
        f"</head>\n<body><h1>fpls reports for {period.label}</h1>\n<p>Cycles: {', '.join(cycles)}</p>\n<ul>\n{links}\n"
        "</ul></body></html>\n"
    )


def _swap_in(tmp: Path, final: Path) -> None:
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def build_period_reports(con: duckdb.DuckDBPyConnection, home: Path | str, period: Period) -> PeriodResult:
    """(Re)build reports/<period>/ from the store; LookupError when no finished cycle falls in the period."""
    cycles = period_cycles(con, period)
    if not cycles:
        raise LookupError(f"no finished cycle in {period.label} ({period.start} to {period.end})")
    ids, last = [c for c, _ in cycles], cycles[-1][0]
    states = metrics.run(con, "states", last).get_column("state").to_list()
    final = Path(home) / "reports" / period.label
    tmp = final.with_name(f".{period.label}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    result = PeriodResult(period.label, str(final), str(final / "index.html"), ids, states)
    span = f"{period.start} to {period.end}"
    for report, (title, sections, kind) in REPORTS.items():
        if kind != period.kind:
            continue
        started = time.monotonic()
        frames, missing = _run(con, _queries(sections), period, last)
        result.not_available += [f"{report}:{q}" for q in sorted(missing)]
        for scope in [NATIONAL, *states]:
            scoped = _scope_frames(frames, sections, scope)
            csvs = {}
            for name, df in scoped.items():
                csvs[name] = f"{report}_{scope}_{name}.csv"
                df.write_csv(tmp / csvs[name])
            where = "national" if scope == NATIONAL else scope
            page = Page(
                scope,
                f"{title} - {period.label} - {where}",
                ", ".join(ids),
                span,
                states,
                scoped,
                missing,
                csvs,
                period=period.label,
                nav=_nav(report, states),
            )
            file = f"{report}_{scope}.html"
            (tmp / file).write_text(render_page(page, sections), encoding="utf-8")
            result.pages.append(file)
            result.csv_files += len(csvs)
        result.seconds[report] = round(time.monotonic() - started, 2)
    (tmp / "index.html").write_text(_index(period, ids, result.pages), encoding="utf-8")
    _swap_in(tmp, final)
    return result
