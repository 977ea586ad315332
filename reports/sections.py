"""What a report page contains: sections, the named queries each shows, and the chart drawn from them.

A section's tables are query results filtered to the page's scope: on a state page the rows of that
state; on the national index the 'US' rows (`national="totals"`) or every row (`national="all"`, a
comparison across states). Person-level sections (`persons=True`) appear on state pages only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import altair as alt
import polars as pl

from reports import charts

ChartFn = Callable[[dict[str, pl.DataFrame], bool], "alt.TopLevelMixin | None"]


@dataclass(frozen=True)
class Table:
    query: str
    national: str = "totals"  # totals | all | none
    max_rows: int = 60  # rows shown on the page; the CSV has all of them


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    tables: tuple[Table, ...]
    chart: ChartFn | None = None
    note: str = ""
    persons: bool = False
    extra_links: tuple[str, ...] = field(default_factory=tuple)  # file suffixes linked from the section


def _states_only(df: pl.DataFrame) -> pl.DataFrame:
    return df.filter(pl.col("state") != "US")


def _fcr_chart(f, national):
    df = f["fcr_registrations"]
    d = charts.long(
        _states_only(df) if national else df,
        ["state"],
        ["noncustodial_parents", "custodial_parties", "children"],
        "participant",
        "persons",
    )
    if national:
        return charts.bar(d, "state", "persons", "Persons registered on the FCR", color="participant")
    return charts.bar(d, "participant", "persons", "Persons registered on the FCR")


def _ssn_chart(f, national):
    df = f["ssn_validity_mix"]
    if national:
        return charts.bar(_states_only(df), "state", "persons", "SSN validity mix by state", "validity_code", True)
    return charts.bar(df, "validity_code", "persons", "SSN validity codes returned this cycle")


def _ndnh_chart(f, national):
    df = f["ndnh_matches"]
    if national:
        return charts.bar(
            _states_only(df), "state", "matches", "NDNH matches by state and source", color="source_label"
        )
    return charts.bar(df, "source_label", "matches", "NDNH matches by source and type", color="match_type")


def _locate_chart(f, national):
    if not national:
        return None  # one number on a state page: the table says it
    df = _states_only(f["locate_hit_rate"])
    return charts.bar(df, "state", "hit_rate_pct", "Locate hit rate by state (%)") if df.height else None


def _quality_chart(f, national):
    if national:
        return charts.bar(
            _states_only(f["reject_rates"]), "state", "reject_rate_pct", "Record reject rate by state's submitters (%)"
        )
    df = f["file_quality"].with_columns((pl.col("submitter") + " " + pl.col("layout")).alias("file_type"))
    return charts.bar(df, "file_type", "reject_rate_pct", "Reject rate by submitter and file type (%)", horizontal=True)


def _codes_chart(f, national):
    df = f["rejects_by_code"]
    df = df.filter(pl.col("submitter") == "(all)") if national else df
    return (
        charts.bar(df, "code", "errors", "Errors by code", color=None if national else "submitter", horizontal=True)
        if df.height
        else None
    )


def _trend_chart(f, national):
    df = f["trends"]
    d = charts.long(
        df.filter(pl.col("state") == "US") if national else df,
        ["cycle_id"],
        ["registrations", "ndnh_matches", "rejected"],
        "measure",
        "count",
    )
    return charts.line(d, "cycle_id", "count", "Trends across cycles", color="measure")


def _asap_chart(f, national):
    df = f["asap_summary"]
    d = charts.long(
        _states_only(df) if national else df,
        ["state"],
        ["ncps", "letters", "passport_risk_ncps", "payment_stop_alerts"],
        "measure",
        "ncps_count",
    )
    return charts.bar(d, "measure", "ncps_count", "Early intervention", color="state")


def _asap_quarter_chart(f, national):
    df = f["asap_quarterly"]
    df = df.filter(pl.col("state") == "US") if national else df
    d = charts.long(
        df, ["quarter"], ["letters_sent", "calls_taken", "cases_with_voluntary_payment"], "measure", "count"
    )
    return charts.line(d, "quarter", "count", "ASAP results by quarter", color="measure") if d.height else None


def _segment_chart(f, national):
    df = f["segmentation"].with_columns((pl.col("behaviour") + " / " + pl.col("ability_class")).alias("segment"))
    if national:
        return charts.bar(
            _states_only(df),
            "state",
            "ncps",
            "Segments by state (behaviour / ability)",
            color="segment",
            normalize=True,
        )
    return charts.bar(
        df, "behaviour", "ncps", "Noncustodial parents: payment behaviour by ability", color="ability_class"
    )


SECTIONS: tuple[Section, ...] = (
    Section(
        "fcr",
        "FCR registrations and SSN verification",
        (Table("fcr_registrations", "all"), Table("fcr_transactions"), Table("ssn_validity_mix")),
        _fcr_chart,
    ),
    Section(
        "ssn",
        "SSN validity mix",
        (),
        _ssn_chart,
        "V verified, C corrected, E identified from additional data, P identified by name/DOB, "
        "N/R review, S IRS-U, - unverified (kept, excluded from matching).",
    ),
    Section(
        "ndnh",
        "NDNH matches by source and type",
        (Table("ndnh_matches"),),
        _ndnh_chart,
        "Sources: H99 W-4 new hire, H98 quarterly wages, H97 UI claim, H01 no NDNH data. "
        "Types: N new NDNH data hit an FCR person, P new FCR person hit NDNH history, L locate response.",
    ),
    Section("locate", "Locate hit rate", (Table("locate_hit_rate", "all"),), _locate_chart),
    Section(
        "offset",
        "Federal offset and passport denial",
        (
            Table("offset_submissions", "all"),
            Table("offset_certifications"),
            Table("offset_rejects_by_code"),
            Table("passport_denials", "all"),
        ),
    ),
    Section(
        "fidm",
        "MSFIDM, insurance and debt-inquiry matches",
        (Table("msfidm_matches", "all"), Table("insurance_matches", "all"), Table("debt_inquiry_matches", "all")),
    ),
    Section(
        "quality",
        "Data quality: reject rates by submitter and error code",
        (Table("reject_rates", "all"), Table("file_quality", "all", 200), Table("rejects_by_code", "totals")),
        _quality_chart,
    ),
    Section("codes", "Errors by code", (), _codes_chart),
    Section(
        "trends",
        "Trends across cycles",
        (Table("trends"),),
        _trend_chart,
        "Per cycle: FCR person records received, NDNH match records sent, records received and rejected "
        "(state agencies with their SWA and SDNH).",
    ),
    Section(
        "asap",
        "Early intervention (ASAP): NCPs at least 60 days in arrears",
        (Table("asap_summary", "all"),),
        _asap_chart,
        "Oklahoma's ASAP sends a delinquent letter to every noncustodial parent at least 60 days in arrears, "
        "inviting a call within 10 days before enforcement follows. Delinquent here: arrears > 0 and no "
        "payment for 60 days or more before the case financial snapshot.",
    ),
    Section(
        "asap_program",
        "ASAP as a program: letters, calls, voluntary payments, dollars collected",
        (Table("asap_program", "all"), Table("asap_quarterly", "all", 80), Table("asap_contacts")),
        _asap_quarter_chart,
        "Letters go out at the state's weekly quota (states/<ST>.yaml), most recent delinquency first, to the "
        "parent's best known address; parents with no usable address are listed 'no address, locate requested' "
        "and located on the next cycle, as are letters that come back. Quarterly: letters sent, calls taken "
        "(call, promise, plan, dispute), cases with a voluntary payment and dollars collected on the cases of "
        "parents mailed a letter in the year before the payment.",
    ),
    Section(
        "asap_list",
        "ASAP letters, 14-day follow-up, returned mail, worklist and payment-stop alerts",
        (
            Table("asap_letters", "none", 25),
            Table("asap_followup", "none", 25),
            Table("asap_returned_mail", "none", 25),
            Table("asap_worklist", "none", 25),
            Table("payment_alerts", "none", 25),
        ),
        None,
        "Follow-up: the program re-checks every letter and call 14 days later; listed here are the parents "
        "with no payment and no contact since. Alerts: a parent who was paying at the previous snapshot and "
        "has not paid since (or, with one snapshot, whose last payment is 36-59 days old).",
        persons=True,
        extra_links=("asap_letters.txt",),
    ),
    Section(
        "segments",
        "Caseload segmentation: payment behaviour x ability to pay",
        (Table("segment_summary", "all"), Table("segmentation", "all", 80)),
        _segment_chart,
        "Strategy context: about 75 % of a caseload can be worked by automated locate and enforcement and "
        "about 25 % of parents lack steady work and need hands-on services. Ability comes from 8 quarters of "
        "QW wages, W-4 new hires and UI (reports/profiles.sql); behaviour from the state's payments of the last "
        "6 months. 'Review order': an order above 40 % of documented income, or with none documented.",
    ),
    Section(
        "profiles",
        "Income profiles of noncustodial parents (print one: fpls report --case ID --state ST)",
        (Table("income_profiles", "none", 25),),
        None,
        persons=True,
    ),
)


def query_names() -> list[str]:
    return list(dict.fromkeys(t.query for s in SECTIONS for t in s.tables))
