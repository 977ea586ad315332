"""A printable "financial situation" page for one case's noncustodial parent, for a caseworker to read
before a contempt hearing: "no case should go to court on a contempt motion without an analysis of the
real financial situation of the noncustodial parent".

`fpls report --case ID --state ST [--cycle C]` writes `reports/<cycle>/cases/<ST>_<case>.html`. Every number
is a cell of a named query in reports/casepage.sql (run with $cycle, $state, $case), SSNs masked by the
metrics layer. The wage chart is drawn on this machine into the page as SVG (vl-convert): the page needs
no script and prints as it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import altair as alt
import duckdb
import polars as pl
from markupsafe import Markup

from reports import charts, metrics
from reports.render import _env, cell_text

BLOCKS = ("case_orders", "case_payments", "case_wages", "case_other_income", "case_contacts")
PROFILE_FIELDS = (
    ("ability_class", "Ability to pay (steady / irregular / none found)"),
    ("behaviour", "Payment behaviour, last 6 months"),
    ("service", "Service"),
    ("documented_monthly_income", "Documented monthly income ($: wages of the last 4 quarters + UI, / 12)"),
    ("monthly_order", "Monthly orders in the state ($)"),
    ("order_share_pct", "Order as a share of documented income (%)"),
    ("review_order", "Review the order (over 40 % of documented income, or none documented)"),
    ("quarters_with_earnings", "Quarters with wages, of the last 4"),
    ("quarters_with_earnings_of_8", "Quarters with wages, of the last 8"),
    ("avg_quarter_wage", "Average wage per quarter with wages ($)"),
    ("wage_trend", "Latest quarter against the 3 before"),
    ("employers_last_year", "Employers in the last year"),
    ("new_hires_last_year", "New hires (W-4) in the last year"),
    ("ui_benefits", "UI benefits, last 365 days ($)"),
    ("bank_accounts", "Bank accounts found (MSFIDM)"),
    ("bank_balance", "Their balances ($)"),
    ("insurance_claims", "Insurance claims"),
    ("lump_sum_amount", "Lump sums reported ($)"),
    ("periods_paid_of_6", "Months with a payment by the parent, of the last 6"),
    ("paid_pct_of_due", "Paid by the parent, % of what fell due (6 months)"),
    ("sources", "Sources that reported him"),
    ("last_seen", "Last seen"),
)


class CaseNotFound(LookupError):
    """No noncustodial parent of that case in the store (or not yet at that cycle)."""


@dataclass
class CasePage:
    path: Path
    state: str
    case_id: str
    member_id: str


def _table(df: pl.DataFrame, title: str, query: str) -> dict:
    shown = df.drop("state") if "state" in df.columns else df
    numeric = {c for c, t in shown.schema.items() if t.is_numeric()}
    return {
        "title": title,
        "query": query,
        "columns": shown.columns,
        "rows": [[(c, cell_text(v), c in numeric) for c, v in zip(shown.columns, row)] for row in shown.iter_rows()],
    }


def _wage_chart(wages: pl.DataFrame) -> str:
    """The 8 quarters as an SVG bar chart (empty string when there is nothing to draw or no renderer)."""
    if wages.is_empty():
        return ""
    data = wages.group_by("quarter").agg(pl.col("wages").sum()).sort("quarter")
    chart = charts.bar(data, "quarter", "wages", "Quarterly wages reported (QW), $")
    try:
        import vl_convert

        return vl_convert.vegalite_to_svg(chart.to_dict(), vl_version=alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0])
    except Exception:  # noqa: BLE001 - the tables below carry the same numbers
        return ""


def build_case_page(
    con: duckdb.DuckDBPyConnection, home: Path | str, cycle_id: str, state: str, case_id: str
) -> CasePage:
    params = {"state": state, "case": case_id}
    header = metrics.run(con, "case_header", cycle_id, **params)
    if header.is_empty():
        raise CaseNotFound(f"no noncustodial parent of case {case_id} in {state} at cycle {cycle_id}")
    head = header.row(0, named=True)
    frames = {name: metrics.run(con, name, cycle_id, **params) for name in BLOCKS}
    profile = metrics.run(con, "case_profile", cycle_id, **params)
    prof = profile.row(0, named=True) if profile.height else {}
    facts = [(label, cell_text(prof.get(key))) for key, label in PROFILE_FIELDS if key in prof]
    html = (
        _env()
        .get_template("case.html.j2")
        .render(
            head=head,
            cycle_id=cycle_id,
            case_id=case_id,
            facts=facts,
            has_profile=bool(prof),
            chart=Markup(_wage_chart(frames["case_wages"])),
            tables=[_table(frames[n], metrics.query(n).title, n) for n in BLOCKS],
        )
    )
    out = Path(home) / "reports" / cycle_id / "cases" / f"{state}_{case_id}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return CasePage(out, state, case_id, head["member_id"])
