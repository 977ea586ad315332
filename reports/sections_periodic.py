"""What the reports over time contain (reports/periodic.py): the monthly NDNH report, the monthly MSER
report and the semi-annual State Profile, as sections of named queries (reports/periodic.sql, and the
cycle queries of profiles.sql / asap.sql run on the period's last cycle) with their trend charts."""

from __future__ import annotations

import polars as pl

from reports import charts
from reports.sections import Section, Table


def _scope(df: pl.DataFrame, national: bool) -> pl.DataFrame:
    return df.filter(pl.col("state") == "US") if national else df


def _ndnh_trend_chart(f, national):
    df = _scope(f["ndnh_trend"], national)
    return (
        charts.line(df, "month", "records", "NDNH records received by month", color="source_label")
        if df.height
        else None
    )


def _ndnh_fn_chart(f, national):
    df = _scope(f["ndnh_trend"], national)
    return (
        charts.line(df, "month", "fn_records_sent", "FN match records sent by month", color="source_label")
        if df.height
        else None
    )


def _ndnh_cycle_chart(f, national):
    df = _scope(f["ndnh_cycles"], national)
    d = charts.long(df, ["cycle_id"], ["w4_received", "qw_received", "ui_received"], "source", "records")
    return (
        charts.line(d, "cycle_id", "records", "Records received per cycle of the month", color="source")
        if d.height
        else None
    )


def _mser_trend_chart(f, national):
    df = _scope(f["mser_trend"], national)
    return (
        charts.line(df, "month", "new_hires", "New hires reported directly by multistate employers")
        if df.height
        else None
    )


def _profile_trend_chart(f, national):
    df = _scope(f["profile_trend"], national)
    return charts.line(df, "cycle_id", "count", "FPLS activity per cycle", color="measure") if df.height else None


def _profile_activity_chart(f, national):
    df = f["profile_activity"]
    if not national:
        return None
    d = charts.long(
        df.filter(pl.col("state") != "US"),
        ["state"],
        ["msfidm_matches", "insurance_matches", "debt_inquiry_matches", "passport_denials"],
        "measure",
        "count",
    )
    return charts.bar(d, "state", "count", "Enforcement matches in the half-year by state", color="measure")


def _segments_chart(f, national):
    df = f["segmentation"].with_columns((pl.col("behaviour") + " / " + pl.col("ability_class")).alias("segment"))
    df = _scope(df, national)
    return charts.bar(df, "behaviour", "ncps", "Payment behaviour by ability (period end)", color="ability_class")


NDNH = (
    Section(
        "ndnh_month",
        "NDNH: new hires, quarterly wages and UI received and matched",
        (Table("ndnh_received", "all", 80),),
        _ndnh_fn_chart,
        "Records loaded into the store from the state directories, workforce agencies and multistate employers "
        "(H99 W-4, H98 QW, H97 UI; rejected: records of those files refused by validation). Matched: NDNH records "
        "that produced an FN record to a state (types N, P, L).",
    ),
    Section("ndnh_trend", "NDNH over the last 12 months", (Table("ndnh_trend", "totals", 80),), _ndnh_trend_chart),
    Section("ndnh_cycles", "NDNH by cycle of the month", (Table("ndnh_cycles"),), _ndnh_cycle_chart),
)

MSER = (
    Section(
        "mser_direct",
        "Multistate employers reporting directly",
        (Table("mser_direct_reporters", "all"), Table("mser_hires_by_state", "all")),
        None,
        "A multistate employer may report all its new hires to one state (MSER registration) or directly; "
        "what the store has today is the employers' direct W-4 files (submitters EMP-<FEIN>).",
    ),
    Section(
        "mser_registrations",
        "MSER registrations",
        (Table("mser_registrations", "all"),),
        None,
        "Registrations come with the multistate employer registration file (being built with e-IWO on another "
        "branch); until the store holds them this section says so.",
    ),
    Section("mser_trend", "MSER over the last 12 months", (Table("mser_trend", "totals", 80),), _mser_trend_chart),
)

PROFILE = (
    Section(
        "profile_activity",
        "State Profile: FPLS activity in the half-year",
        (Table("profile_activity", "all"),),
        _profile_activity_chart,
        "FCR registrations on file at the end of the half-year and persons added in it; locate requests and the "
        "share answered with NDNH data; FN records by source; offset debtors and passport denials in force at "
        "the end; MSFIDM, insurance and Debt Inquiry matches sent in the half-year.",
    ),
    Section("profile_trend", "Activity per cycle", (Table("profile_trend", "totals", 120),), _profile_trend_chart),
    Section("profile_asap", "Early intervention (ASAP)", (Table("profile_asap", "all"),)),
    Section(
        "profile_segments",
        "Caseload segments at the end of the half-year",
        (Table("segment_summary", "all"), Table("segmentation", "all", 80)),
        _segments_chart,
    ),
    Section("profile_eiwo", "e-IWO", (Table("profile_eiwo", "all"),)),
)

# report name -> (title, sections, the period kind it is made for)
REPORTS: dict[str, tuple[str, tuple[Section, ...], str]] = {
    "ndnh": ("Monthly NDNH report", NDNH, "month"),
    "mser": ("Monthly MSER report", MSER, "month"),
    "profile": ("Semi-annual State Profile", PROFILE, "half"),
}
CYCLE_QUERIES = ("segment_summary", "segmentation")  # run with $cycle = the period's last cycle
