"""Structured portal submissions: State Plan pages (initiated → submitted → approved / returned),
annual Self-Assessment sections (copy from prior year) and the Access & Visitation survey (reporting
window 1 October – 30 December of the cycle's --as-of year). Every status change is an append-only event.

A submission is one accepted file; its business checks give per-field issues. Any issue rejects the
submission (no version); the receipt and `fpls submissions show` say what was wrong.
"""

from __future__ import annotations

import json
from datetime import date

import duckdb
import polars as pl

from pipeline.portal.common import (
    PortalContext,
    PortalError,
    add_issues,
    attachments,
    check_document,
    issue,
    staged,
)
from pipeline.store import frame, insert_frame, transaction

CYCLE_TABLES = ("submissions", "submission_items", "submission_issues", "irg_profiles", "ede_exchanges", "dra_uploads")
KINDS = {"state_plan_csv": "STATE_PLAN", "self_assessment_csv": "SELF_ASSESSMENT", "av_survey_csv": "AV_SURVEY"}
PLAN_FINAL = {"approved", "returned"}


def clear_cycle(con: duckdb.DuckDBPyConnection, cycle_id: str) -> None:
    """A rerun of the cycle recomputes its portal rows from the staged input (idempotent)."""
    for table in CYCLE_TABLES:
        con.execute(f"DELETE FROM {table} WHERE cycle_id = ?", [cycle_id])
    con.execute("DELETE FROM submission_events WHERE cycle_id = ? AND source = 'cycle'", [cycle_id])


def next_version(con: duckdb.DuckDBPyConnection, state: str, kind: str, period: str) -> int:
    return int(
        con.execute(
            """SELECT count(*) + 1 FROM submissions WHERE state = ? AND kind = ? AND period = ?
        AND version IS NOT NULL""",
            [state, kind, period],
        ).fetchone()[0]
    )


def record(
    ctx: PortalContext, file_id: int, state: str, kind: str, period: str, issues: list[dict], items: int
) -> int | None:
    """Write one submission (accepted → next version; else rejected) and its event; returns the version."""
    add_issues(ctx.con, issues)
    version = None if issues else next_version(ctx.con, state, kind, period)
    status = "rejected" if issues else "accepted"
    ctx.con.execute(
        "INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [ctx.cycle_id, file_id, state, kind, period, version, status, items],
    )
    event(
        ctx.con,
        ctx.cycle_id,
        ctx.as_of,
        state,
        kind,
        f"{period}/v{version or '-'}",
        None,
        status,
        "cycle",
        None,
        None,
        file_id,
    )
    return version


def event(con, cycle_id, at, state, kind, reference, from_status, to_status, source, operator, reason, file_id) -> int:
    seq = int(con.execute("SELECT coalesce(max(seq), 0) + 1 FROM submission_events").fetchone()[0])
    con.execute(
        "INSERT INTO submission_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, cycle_id, at, state, kind, reference, from_status, to_status, source, operator, reason, file_id],
    )
    return seq


def _items(ctx: PortalContext, rows: pl.DataFrame, state: str, kind: str, period: str, version: int, item: str) -> None:
    data = rows.drop("cycle_id", "file_id", "line_no", "submitter", strict=False)
    out = rows.select("file_id", "line_no").with_columns(
        pl.lit(ctx.cycle_id).alias("cycle_id"),
        pl.lit(state).alias("state"),
        pl.lit(kind).alias("kind"),
        pl.lit(period).alias("period"),
        pl.lit(version).alias("version"),
        rows[item].cast(pl.Utf8).alias("item"),
        data.select(pl.struct(pl.all()).struct.json_encode()).to_series().alias("data_json"),
    )
    insert_frame(ctx.con, "submission_items", out)


# ---------------------------------------------------------------- state plan


def plan_status(con: duckdb.DuckDBPyConnection, state: str, reference: str) -> str | None:
    row = con.execute(
        """SELECT to_status FROM submission_events WHERE state = ? AND kind = 'STATE_PLAN_PAGE'
        AND reference = ? ORDER BY seq DESC LIMIT 1""",
        [state, reference],
    ).fetchone()
    return row[0] if row else None


def _plan_row_issues(ctx: PortalContext, r: dict, docs: pl.DataFrame) -> list[dict]:
    ref = f"{r['plan_section']}/{r['transmittal_number']}"
    now = plan_status(ctx.con, r["submitter"], ref)
    bad = []
    if r["plan_action"] == "INITIATE" and now is not None:
        bad.append(("plan_action", "PLAN_EXISTS", f"page {ref} is already {now}; SUBMIT it instead"))
    if r["plan_action"] == "SUBMIT" and now in {"submitted", "approved"}:
        bad.append(("plan_action", "PLAN_NOT_SUBMITTABLE", f"page {ref} is {now}"))
    _, code, message = check_document(docs, r["submitter"], r["attachment_file"], r["attachment_sha256"])
    if code:
        bad.append(("attachment_file", code, message))
    if r["attachment_file"] and not r["attachment_sha256"]:
        bad.append(("attachment_sha256", "REQUIRED", "attachment_sha256 is required with an attachment"))
    return [issue(ctx, r["file_id"], r["line_no"], r["submitter"], "STATE_PLAN", *b) for b in bad]


def _plan_events(ctx: PortalContext, r: dict) -> None:
    ref = f"{r['plan_section']}/{r['transmittal_number']}"
    now = plan_status(ctx.con, r["submitter"], ref)
    steps = [(None, "initiated")] if now is None else []
    if r["plan_action"] == "SUBMIT":
        steps.append((steps[-1][1] if steps else now, "submitted"))
    for before, after in steps:
        event(
            ctx.con,
            ctx.cycle_id,
            ctx.as_of,
            r["submitter"],
            "STATE_PLAN_PAGE",
            ref,
            before,
            after,
            "cycle",
            None,
            None,
            r["file_id"],
        )


def _state_plan(ctx: PortalContext, rows: pl.DataFrame, docs: pl.DataFrame) -> None:
    for (file_id, state), part in rows.group_by("file_id", "submitter", maintain_order=True):
        issues = [i for r in part.iter_rows(named=True) for i in _plan_row_issues(ctx, r, docs)]
        period = str(part["transmittal_number"][0])
        version = record(ctx, file_id, state, "STATE_PLAN", period, issues, part.height)
        if version is not None:
            _items(ctx, part, state, "STATE_PLAN", period, version, "plan_section")
            for r in part.iter_rows(named=True):
                _plan_events(ctx, r)


def change_plan_status(
    con: duckdb.DuckDBPyConnection, state: str, reference: str, to_status: str, reason: str, operator: str, at: date
) -> int:
    """Operator decision on a submitted page: approved or returned (audited, append-only)."""
    if to_status not in PLAN_FINAL:
        raise PortalError(f"status must be one of {sorted(PLAN_FINAL)}")
    with transaction(con):
        now = plan_status(con, state, reference)
        if now != "submitted":
            raise PortalError(f"state plan page {state} {reference} is {now or 'unknown'}, not submitted")
        return event(
            con, None, at, state, "STATE_PLAN_PAGE", reference, now, to_status, "operator", operator, reason, None
        )


# ---------------------------------------------------------------- self-assessment


def _prior_section(con, state: str, year: str, section: str) -> dict | None:
    row = con.execute(
        """SELECT i.data_json FROM submission_items i WHERE i.state = ? AND i.kind = 'SELF_ASSESSMENT'
        AND i.period < ? AND i.item = ? ORDER BY i.period DESC, i.version DESC LIMIT 1""",
        [state, year, section],
    ).fetchone()
    return json.loads(row[0]) if row else None


def _self_assessment(ctx: PortalContext, rows: pl.DataFrame) -> None:
    for (file_id, state), part in rows.group_by("file_id", "submitter", maintain_order=True):
        issues, filled = [], []
        years = part["report_year"].unique().to_list()
        for r in part.iter_rows(named=True):

            def add(fld: str, code: str, msg: str, line_no: int = r["line_no"]) -> None:
                issues.append(issue(ctx, file_id, line_no, state, "SELF_ASSESSMENT", fld, code, msg))  # noqa: B023

            if len(years) > 1:
                add("report_year", "SA_MIXED_YEARS", "one report year per file")
            if r["copy_from_prior"] == "Y":
                prior = _prior_section(ctx.con, state, r["report_year"], r["assessment_section"])
                if prior is None:
                    add(
                        "copy_from_prior",
                        "SA_NO_PRIOR_YEAR",
                        f"no accepted earlier report has section {r['assessment_section']}",
                    )
                else:
                    r = {
                        **r,
                        **{k: prior[k] for k in ("cases_reviewed", "cases_compliant", "narrative") if r[k] is None},
                        "copied_from": prior["report_year"],
                    }
            if r["cases_reviewed"] is None:
                add("cases_reviewed", "REQUIRED", "cases_reviewed is required (or copy_from_prior = Y)")
            elif (r["cases_compliant"] or 0) > r["cases_reviewed"]:
                add("cases_compliant", "SA_COUNTS", "cases_compliant exceeds cases_reviewed")
            filled.append(r)
        dups = part.filter(pl.col("assessment_section").is_duplicated())
        for r in dups.iter_rows(named=True):
            issues.append(
                issue(
                    ctx,
                    file_id,
                    r["line_no"],
                    state,
                    "SELF_ASSESSMENT",
                    "assessment_section",
                    "SA_DUPLICATE_SECTION",
                    "the section appears more than once",
                )
            )
        version = record(ctx, file_id, state, "SELF_ASSESSMENT", str(years[0]), issues, part.height)
        if version is not None:
            _items(
                ctx,
                pl.DataFrame(filled, infer_schema_length=None),
                state,
                "SELF_ASSESSMENT",
                str(years[0]),
                version,
                "assessment_section",
            )


# ---------------------------------------------------------------- access & visitation


def av_window(as_of: date) -> tuple[date, date]:
    return date(as_of.year, 10, 1), date(as_of.year, 12, 30)


def _av_issues(ctx: PortalContext, part: pl.DataFrame, state: str, file_id: int) -> list[dict]:
    opens, closes = av_window(ctx.as_of)
    out = []
    if not opens <= ctx.as_of <= closes:
        out.append(
            issue(
                ctx,
                file_id,
                None,
                state,
                "AV_SURVEY",
                "",
                "AV_WINDOW_CLOSED",
                f"the survey is accepted from {opens} to {closes}; the cycle date is {ctx.as_of}",
            )
        )
    for r in part.iter_rows(named=True):
        if r["grant_year"] != str(ctx.as_of.year):
            out.append(
                issue(
                    ctx,
                    file_id,
                    r["line_no"],
                    state,
                    "AV_SURVEY",
                    "grant_year",
                    "AV_WRONG_YEAR",
                    f"this window reports fiscal year {ctx.as_of.year}",
                )
            )
        if r["noncustodial_parents"] + r["custodial_parents"] > r["parents_served"]:
            out.append(
                issue(
                    ctx,
                    file_id,
                    r["line_no"],
                    state,
                    "AV_SURVEY",
                    "parents_served",
                    "AV_COUNTS",
                    "non-custodial + custodial parents exceed parents served",
                )
            )
    return out


def _av_survey(ctx: PortalContext, rows: pl.DataFrame) -> None:
    for (file_id, state), part in rows.group_by("file_id", "submitter", maintain_order=True):
        period = str(part["grant_year"][0])
        version = record(ctx, file_id, state, "AV_SURVEY", period, _av_issues(ctx, part, state, file_id), part.height)
        if version is not None:
            _items(ctx, part, state, "AV_SURVEY", period, version, "grantee_name")


def process(ctx: PortalContext) -> dict[str, int]:
    docs = attachments(ctx.con, ctx.cycle_id)
    _state_plan(ctx, staged(ctx.con, ctx.cycle_id, "state_plan_csv"), docs)
    _self_assessment(ctx, staged(ctx.con, ctx.cycle_id, "self_assessment_csv"))
    _av_survey(ctx, staged(ctx.con, ctx.cycle_id, "av_survey_csv"))
    rows = ctx.con.execute(
        "SELECT kind, count(*) FROM submissions WHERE cycle_id = ? GROUP BY 1 ORDER BY 1", [ctx.cycle_id]
    ).fetchall()
    return {k: int(n) for k, n in rows}


# ---------------------------------------------------------------- views


def listing(con: duckdb.DuckDBPyConnection, state: str | None = None) -> pl.DataFrame:
    return frame(
        con,
        """SELECT s.state, s.kind, s.period, s.version, s.status, s.items, s.cycle_id, l.file_name,
            (SELECT count(*) FROM submission_issues i WHERE i.file_id = s.file_id) AS issues
        FROM submissions s LEFT JOIN file_ledger l USING (file_id) WHERE (? IS NULL OR s.state = ?)
        ORDER BY s.state, s.kind, s.period, s.cycle_id, s.file_id""",
        [state, state],
    )


def history(con: duckdb.DuckDBPyConnection, state: str, kind: str | None = None) -> pl.DataFrame:
    return frame(
        con,
        """SELECT seq, event_date, kind, reference, from_status, to_status, source, operator, reason
        FROM submission_events WHERE state = ? AND (? IS NULL OR kind LIKE ? || '%') ORDER BY seq""",
        [state, kind, kind],
    )


def issues_of(con: duckdb.DuckDBPyConnection, state: str) -> pl.DataFrame:
    return frame(
        con,
        """SELECT i.cycle_id, l.file_name, i.kind, i.line_no, i.field, i.code, i.message
        FROM submission_issues i LEFT JOIN file_ledger l USING (file_id) WHERE i.state = ?
        ORDER BY i.cycle_id, i.file_id, i.line_no NULLS FIRST, i.field""",
        [state],
    )


def plan_pages(con: duckdb.DuckDBPyConnection, state: str) -> pl.DataFrame:
    return frame(
        con,
        """SELECT reference, arg_max(to_status, seq) AS status, max(seq) AS last_seq
        FROM submission_events WHERE state = ? AND kind = 'STATE_PLAN_PAGE' GROUP BY 1 ORDER BY 1""",
        [state],
    )
