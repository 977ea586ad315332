"""Render one report page (national index or a state) from query frames already filtered to its scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
import polars as pl
from markupsafe import Markup

from reports import charts, metrics
from reports.sections import SECTIONS, Section

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def cell_text(value: object) -> str:
    """How a query value appears in an HTML cell (the CSV writes the same values)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


@dataclass
class Page:
    scope: str  # "US" for the national index, else a state code
    title: str
    cycle_id: str
    as_of: str
    states: list[str]
    frames: dict[str, pl.DataFrame]  # query name -> rows of this scope (absent: not available)
    missing: dict[str, str]  # query name -> what the store lacks
    csv_names: dict[str, str]  # query name -> CSV file written beside the page
    period: str = ""  # a report over time (reports/periodic.py): "2026-11", "2026H2"; the cycles are in cycle_id
    nav: list[tuple[str, str]] | None = None  # (label, href); default: national index + one link per state


def _table_ctx(page: Page, query: str, max_rows: int) -> dict:
    q = metrics.query(query)
    ctx = {
        "query": query,
        "title": q.title,
        "source": q.source,
        "csv": page.csv_names.get(query, ""),
        "missing": page.missing.get(query, ""),
        "columns": [],
        "rows": [],
        "more": 0,
    }
    df = page.frames.get(query)
    if df is None:
        ctx["missing"] = ctx["missing"] or "its tables"
        return ctx
    numeric = {c for c, t in df.schema.items() if t.is_numeric()}
    shown = df.head(max_rows)
    ctx["columns"] = shown.columns
    ctx["rows"] = [[(c, cell_text(v), c in numeric) for c, v in zip(shown.columns, row)] for row in shown.iter_rows()]
    ctx["more"] = max(df.height - max_rows, 0)
    return ctx


def _chart_spec(section: Section, page: Page) -> str | None:
    if section.chart is None:
        return None
    try:
        chart = section.chart(page.frames, page.scope == "US")
    except KeyError:  # a query it draws from is not available in this store
        return None
    if chart is None or chart.data is None or len(chart.data) == 0:
        return None
    return charts.spec_json(chart)


def _nav(page: Page) -> list[tuple[str, str]]:
    if page.nav is not None:
        return page.nav
    head = [] if page.scope == "US" else [("National index", "index.html")]
    return head + [(st, f"{st}.html") for st in page.states]


def _section_ctx(section: Section, page: Page, index: int) -> dict | None:
    national = page.scope == "US"
    if national and section.persons:
        return None
    tables = [t for t in section.tables if not (national and t.national == "none")]
    spec = _chart_spec(section, page)
    if not tables and spec is None:
        return None
    links = [f"{page.scope}_{suffix}" for suffix in section.extra_links if not national]
    return {
        "key": section.key,
        "heading": section.heading,
        "note": section.note,
        "chart_id": f"chart-{index}" if spec else "",
        "spec": spec or "",
        "tables": [_table_ctx(page, t.query, t.max_rows) for t in tables],
        "links": links,
    }


def render_page(page: Page, sections_of_page: tuple[Section, ...] = SECTIONS) -> str:
    sections = [s for i, sec in enumerate(sections_of_page) if (s := _section_ctx(sec, page, i)) is not None]
    return (
        _env()
        .get_template("page.html.j2")
        .render(
            title=page.title,
            scope=page.scope,
            cycle_id=page.cycle_id,
            as_of=page.as_of,
            states=page.states,
            period=page.period,
            nav=_nav(page),
            sections=sections,
            chart_count=sum(1 for s in sections if s["chart_id"]),
            bundle=Markup(charts.javascript_bundle()),
        )
    )
