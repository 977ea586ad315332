"""The No Programming Option: an employer that does not take e-IWO files gets its orders as a readable HTML page
(one section per order: who to withhold from, how much per pay period, where to send it, what to do) and the
acknowledgment spreadsheet prefilled with one row per order (eiwo_ack_csv: the employer fills in the disposition,
its date and, when the employee left, the termination details, then returns it).

The HTML is built with polars string expressions (one section per row, no per-record Python loop); every value is
HTML-escaped. It shows exactly the orders of the EIWO.<EMP>.<cycle>.dat beside it, whose records the disclosure
log holds; its manifest entry names layout eiwo_npo_html (a rendering, never decoded).
"""

from __future__ import annotations

import polars as pl

from pipeline.files.codes import STATE_FIPS
from pipeline.files.layouts import load_layout
from pipeline.files.writer import csv_bytes

FREQUENCY = {"W": "week", "B": "two weeks", "S": "half month", "M": "month", "A": "year"}
STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}"
    "section{border:1px solid #999;padding:1em;margin:1em 0}th{text-align:left;padding-right:1em}"
)


def _esc(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.Utf8).fill_null("")
    return text.str.replace_all("&", "&amp;").str.replace_all("<", "&lt;").str.replace_all(">", "&gt;")


def _money(name: str) -> pl.Expr:
    cents = pl.col(name).cast(pl.Int64, strict=False)
    return (
        pl.when(cents.is_null())
        .then(pl.lit(""))
        .otherwise(pl.format("${}.{}", cents // 100, (cents % 100).cast(pl.Utf8).str.zfill(2)))
    )


def _date(name: str) -> pl.Expr:
    d = pl.col(name).fill_null("")
    return (
        pl.when(d.str.len_chars() == 8)
        .then(pl.format("{}-{}-{}", d.str.slice(0, 4), d.str.slice(4, 2), d.str.slice(6, 2)))
        .otherwise(d)
    )


def _row(label: str, value: pl.Expr) -> pl.Expr:
    return pl.format("<tr><th>{}</th><td>{}</td></tr>", pl.lit(label), _esc(value))


def order_sections(orders: pl.DataFrame) -> pl.Series:
    per = pl.col("total_frequency").replace_strict(FREQUENCY, default="pay period")
    rows = [
        _row(
            "Order", pl.format("{} {} dated {}", "document_action_code", "document_tracking_id", _date("document_date"))
        ),
        _row(
            "Issued by",
            pl.concat_str(["issuing_state_name", "issuing_jurisdiction"], separator=", ", ignore_nulls=True),
        ),
        _row("Case", pl.col("case_id")),
        _row("Employer", pl.format("{} (FEIN {})", "employer_name", "employer_fein")),
        _row(
            "Employee",
            pl.concat_str(
                ["employee_first_name", "employee_middle_name", "employee_last_name"], separator=" ", ignore_nulls=True
            ),
        ),
        _row("Employee SSN", pl.col("employee_ssn")),
        _row("Withhold in total", pl.format("{} per {}", _money("total_amount"), per)),
        _row(
            "Per weekly / biweekly / semimonthly / monthly pay",
            pl.format(
                "{} / {} / {} / {}",
                _money("weekly_amount"),
                _money("biweekly_amount"),
                _money("semimonthly_amount"),
                _money("monthly_amount"),
            ),
        ),
        _row("Lump sum to withhold", _money("lump_sum_amount")),
        _row(
            "Send payments to",
            pl.concat_str(
                ["payee_name", "payee_address_line_1", "payee_city", "payee_state", "payee_zip"],
                separator=", ",
                ignore_nulls=True,
            ),
        ),
        _row("Quote with each payment", pl.col("remittance_id")),
        _row("Questions", pl.col("state_contact_phone")),
    ]
    return orders.select(
        pl.concat_str([pl.lit("<section><table>"), *rows, pl.lit("</table></section>")]).alias("s")
    ).to_series()


def _page_head(recipient: pl.Expr, n: pl.Expr, cycle: str) -> pl.Expr:
    return pl.format(
        "<!doctype html><html><head><meta charset='ascii'><title>Income withholding orders for EMP-{}</title>"
        "<style>{}</style></head><body><h1>Income withholding orders for EMP-{}</h1><p>{} order(s), fpls cycle {}. "
        "Begin withholding no later than the first pay period that occurs 14 days after the order date. Answer each "
        "order in the acknowledgment spreadsheet sent with this page (accepted A / rejected R and the reason) and "
        "return it through your e-IWO folder.</p>",
        recipient,
        pl.lit(STYLE),
        recipient,
        n,
        pl.lit(cycle),
    )


def npo_documents(orders: pl.DataFrame, cycle: str) -> pl.DataFrame:
    """Per recipient (column recipient_fein): the HTML page (`html`) and the prefilled acknowledgment spreadsheet
    (`sheet`, eiwo_ack_csv with the disposition columns blank), built for all recipients at once."""
    schema = {"recipient_fein": pl.Utf8, "html": pl.Utf8, "sheet": pl.Utf8}
    if orders.is_empty():
        return pl.DataFrame(schema=schema)
    sections = orders.select("recipient_fein", order_sections(orders).alias("section"))
    pages = sections.group_by("recipient_fein", maintain_order=True).agg(
        pl.len().alias("n"), pl.col("section").str.join("")
    )
    pages = pages.select(
        "recipient_fein",
        pl.concat_str([_page_head(pl.col("recipient_fein"), pl.col("n"), cycle), "section", pl.lit("</body></html>\n")])
        .str.replace_all(r"[^\x20-\x7E\n]", "?")
        .alias("html"),
    )
    fips = pl.col("state").replace_strict(STATE_FIPS, default=None)
    rows = orders.select(
        "document_action_code",
        "case_id",
        "employer_fein",
        "employee_ssn",
        "employee_last_name",
        "employee_first_name",
        "document_tracking_id",
        fips.alias("issuing_state_fips"),
    )
    text = csv_bytes(load_layout("eiwo_ack_csv"), rows).decode().split("\n")
    head, body = text[0], pl.Series("row", text[1 : 1 + rows.height])
    sheets = (
        orders.select("recipient_fein")
        .with_columns(body)
        .group_by("recipient_fein", maintain_order=True)
        .agg((pl.lit(head + "\n") + pl.col("row").str.join("\n") + pl.lit("\n")).first().alias("sheet"))
    )
    return pages.join(sheets, on="recipient_fein", how="left").select(list(schema))
