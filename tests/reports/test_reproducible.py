"""Every number in a report is a cell of a named query: re-run a sample of them as plain SQL and compare
with the CSV files and the HTML tables that were written."""

from __future__ import annotations

import html
import re
from pathlib import Path

import polars as pl
import pytest

from reports import metrics
from reports.render import cell_text
from tests.reports.storekit import C2

SAMPLE = [
    "fcr_registrations",
    "ssn_validity_mix",
    "ndnh_matches",
    "locate_hit_rate",
    "reject_rates",
    "rejects_by_code",
    "trends",
    "asap_summary",
    "asap_worklist",
    "payment_alerts",
    "segmentation",
    "segment_summary",
    "income_profiles",
    "asap_letters",
    "asap_program",
    "asap_quarterly",
]


def _rerun(con, name: str, state: str) -> pl.DataFrame:
    """The query as a human would run it: its SQL text with the cycle written in, no Python parameters."""
    df = metrics.mask_pii(pl.from_arrow(con.sql(metrics.sql_text(name, C2)).to_arrow_table()))
    return df.filter(pl.col("state") == state)


def _csv(path: Path, like: pl.DataFrame) -> pl.DataFrame:
    return pl.read_csv(path, schema=like.schema) if path.stat().st_size else like.clear()


def _html_table(page: str, query: str) -> list[list[str]]:
    m = re.search(rf'<table data-query="{query}">(.*?)</table>', page, re.S)
    assert m, f"table {query} not on the page"
    rows = re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)[1:]
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


@pytest.mark.parametrize("name", SAMPLE)
@pytest.mark.parametrize("state", ["KS", "MO"])
def test_state_numbers_match_the_store(small, name, state):
    home, con, result = small
    out = Path(result.directory)
    expected = _rerun(con, name, state)
    written = _csv(out / f"{state}_{name}.csv", expected)
    assert written.equals(expected), name
    page = (out / f"{state}.html").read_text()
    cells = _html_table(page, name)
    want = [[cell_text(v) for v in row] for row in expected.head(len(cells) or 0).iter_rows()]
    assert cells == want
    assert len(cells) == min(expected.height, len(cells)) and (len(cells) > 0) == (expected.height > 0)


@pytest.mark.parametrize(
    "name", ["fcr_registrations", "asap_summary", "segmentation", "reject_rates", "locate_hit_rate"]
)
def test_national_numbers_match_the_store(small, name):
    home, con, result = small
    expected = metrics.mask_pii(pl.from_arrow(con.sql(metrics.sql_text(name, C2)).to_arrow_table()))
    written = _csv(Path(result.directory) / f"US_{name}.csv", expected)
    assert written.filter(pl.col("state") == "US").equals(expected.filter(pl.col("state") == "US"))
    page = (Path(result.directory) / "index.html").read_text()
    assert _html_table(page, name)
