"""e-IWO outbound files, rewritten from the store on every (re)run so a resumed cycle gives the same bytes.

- EIWO.EMP-<FEIN>.<cycle>.dat (eiwo_employer) to each recipient of orders sent this cycle: one BHI batch per
  (issuing state, employer FEIN), the detail records as the state sent them. Recipients on the No Programming
  Option also get EIWO.EMP-<FEIN>.<cycle>.html (the orders, readable) and EIWOACK.EMP-<FEIN>.<cycle>.csv (the
  acknowledgment spreadsheet, prefilled; eiwo_ack_csv) — pipeline/enforcement/eiwo_npo.py.
- EIWORES.<ST>.<cycle>.dat (eiwo_state_ack) to each state that sent orders or has acknowledgments / notices: a
  RES record for every order line it sent this cycle (SENT / REFUSED / REJECTED with the reason: conservation,
  DTL lines read = RES records), ACK records (dispositions routed back), NEW records (new employer).
- EIWOACKRES.EMP-<FEIN>.<cycle>.dat (eiwo_ack_result) to each employer that sent acknowledgments: an ARS record
  for every acknowledgment line (ROUTED / REFUSED / REJECTED with the reason).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipeline.enforcement.eiwo_load import ACK_FIELDS, ORDER_FIELDS, ORDER_LAYOUTS
from pipeline.enforcement.eiwo_npo import npo_documents, write_entry
from pipeline.files import errors
from pipeline.files.codes import STATE_FIPS
from pipeline.files.delivery import merge_manifest, write_file
from pipeline.files.layouts import load_layout
from pipeline.files.writer import Blocks, render_records
from pipeline.store import frame

FIPS_STATE = {v: k for k, v in STATE_FIPS.items()}
DISPOSITIONS = {
    "A": "ACCEPTED",
    "AB": "ACCEPTED: SSN MATCHES, NAME DIFFERS",
    "AS": "ACCEPTED: EMPLOYEE IN SUSPENSE STATUS",
    "AW": "ACCEPTED: WRONG FEIN, SEE CORRECTED FEIN",
    "R": "REJECTED",
    "RB": "REJECTED: SSN MATCHES, NAME DIFFERS",
    "RD": "REJECTED: DUPLICATE IWO",
    "RM": "REJECTED: ORDER IN PLACE FROM ANOTHER STATE",
    "RN": "REJECTED: NO LONGER AN EMPLOYEE",
    "RU": "REJECTED: NEVER EMPLOYED",
    "RX": "REJECTED: UNABLE TO PROCESS",
    "RZ": "REJECTED: UNABLE TO TERMINATE",
}
ACK_WITHHELD = (
    "employer_fein",
    "employer_name",
    "corrected_fein",
    "new_employer_name",
    "new_employer_address_line_1",
    "new_employer_city",
    "new_employer_state",
    "new_employer_zip",
    "employee_address_line_1",
    "employee_city",
    "employee_state",
    "employee_zip",
)


HEAD_SCHEMA = {
    "control_number": pl.Utf8,
    "state_fips": pl.Utf8,
    "ein": pl.Utf8,
    "creation_date": pl.Date,
    "creation_time": pl.Utf8,
}


def _digits(cycle: str) -> str:
    return cycle.replace("-", "")


def _json(df: pl.DataFrame, names: tuple[str, ...]) -> pl.DataFrame:
    """Unpack row_json (layout text per field) into one text column per field."""
    struct = pl.Struct({n: pl.Utf8 for n in names})
    return df.with_columns(pl.col("row_json").str.json_decode(struct)).unnest("row_json")


def _messages(df: pl.DataFrame, code: str = "reason_code") -> pl.Expr:
    codes = [c for c in df.get_column(code).drop_nulls().unique().sort() if c in errors.registry()]
    table = {c: errors.render(c) for c in codes}
    return pl.col(code).replace_strict(table, default=None, return_dtype=pl.Utf8)


def _head(control: str, as_of: date, fips: str | None = None, ein: str | None = None) -> pl.DataFrame:
    """A universal header's values (the document code and sender kind are the layout's fixed values)."""
    values = {"control_number": control, "state_fips": fips, "ein": ein, "creation_date": as_of}
    return pl.DataFrame([values | {"creation_time": "000000"}], schema=HEAD_SCHEMA)


def sent_orders(con: duckdb.DuckDBPyConnection, cycle: str) -> pl.DataFrame:
    """Every order sent this cycle, in file order per recipient, as layout text (one query, one JSON decode)."""
    rows = frame(
        con,
        """SELECT o.recipient_fein, o.delivery, o.state, o.employer_fein AS batch_fein, i.row_json FROM eiwo_orders o
        JOIN eiwo_order_input i ON i.file_id = o.file_id AND i.line_no = o.line_no
        WHERE o.cycle_id = ? AND o.status = 'sent'
        ORDER BY o.recipient_fein, o.state, o.employer_fein, o.file_id, o.line_no""",
        [cycle],
    )
    return _json(rows, ORDER_FIELDS)


def employer_files(orders: pl.DataFrame, cycle: str, as_of: date) -> pl.DataFrame:
    """Every recipient's EIWO file rendered at once (one render per record type, not per file): columns
    recipient_fein, data (the file's text), batches, orders. One BHI batch per (issuing state, employer FEIN)."""
    layout, digits = load_layout("eiwo_employer"), _digits(cycle)
    rcpt = "recipient_fein"
    batches = (
        orders.select(rcpt, "state", "batch_fein")
        .unique(maintain_order=True)
        .with_columns((pl.int_range(pl.len()).over(rcpt) + 1).alias("n"))
    )
    o = orders.join(batches, on=[rcpt, "state", "batch_fein"], how="left", maintain_order="left")
    o = o.with_columns(pl.int_range(pl.len()).over(rcpt, "n").alias("seq"))
    counts = o.group_by(rcpt, "n", maintain_order=True).agg(pl.len().cast(pl.Int64).alias("record_count"))
    batches = batches.join(counts, on=[rcpt, "n"], how="left", maintain_order="left").with_columns(
        pl.format("B{}{}{}", pl.lit(digits), pl.col("n").cast(pl.Utf8).str.zfill(2), "batch_fein").alias(
            "control_number"
        ),
        pl.col("state").replace_strict(STATE_FIPS, default=None).alias("state_fips"),
        pl.col("batch_fein").alias("ein"),
        pl.when(pl.col("batch_fein") != pl.col(rcpt)).then(pl.col(rcpt)).alias("primary_ein"),
        pl.lit(as_of).alias("creation_date"),
        pl.lit("000000").alias("creation_time"),
    )
    files = batches.group_by(rcpt, maintain_order=True).agg(
        pl.len().alias("batch_count"), pl.col("record_count").sum().alias("orders")
    )
    files = files.with_columns(
        pl.format("H{}{}", pl.lit(digits), rcpt).alias("control_number"),
        pl.col(rcpt).alias("ein"),
        pl.lit(as_of).alias("creation_date"),
        pl.lit("000000").alias("creation_time"),
        pl.col("orders").alias("record_count"),
    )

    def lines(frame: pl.DataFrame, rid: str, n: pl.Expr, k: int, seq: pl.Expr) -> pl.DataFrame:
        text = render_records(frame, layout.record(rid))
        return frame.select(
            rcpt, n.cast(pl.Int64).alias("n"), pl.lit(k).alias("k"), seq.cast(pl.Int64).alias("seq")
        ).with_columns(text.alias("line"))

    parts = [
        lines(files, "FHI", pl.lit(0), 0, pl.lit(0)),
        lines(batches, "BHI", pl.col("n"), 0, pl.lit(0)),
        lines(o, "DTL", pl.col("n"), 1, pl.col("seq")),
        lines(batches, "BTI", pl.col("n"), 2, pl.lit(0)),
        lines(files, "FTI", pl.lit(10**6), 0, pl.lit(0)),
    ]
    text = (
        pl.concat(parts)
        .sort(rcpt, "n", "k", "seq", maintain_order=True)
        .group_by(rcpt, maintain_order=True)
        .agg((pl.col("line").str.join("\n") + "\n").alias("data"))
    )
    return files.select(rcpt, "batch_count", "orders").join(text, on=rcpt, how="left", maintain_order="left")


def _res(con: duckdb.DuckDBPyConnection, cycle: str, state: str) -> pl.DataFrame:
    res = frame(
        con,
        """SELECT l.file_name AS source_file, o.line_no AS source_line, o.document_tracking_id, o.case_id,
            o.employee_ssn, i.employee_last_name, CASE WHEN o.data_withheld = 'Y' THEN NULL ELSE o.employer_fein END
            AS order_fein, upper(o.status) AS result, o.reason_code,
            CASE WHEN o.data_withheld = 'Y' THEN NULL ELSE o.recipient_fein END AS routed_fein,
            o.delivery, o.address_source AS iwo_addr_from, o.data_withheld, o.cycle_id, o.file_id, NULL AS message
        FROM eiwo_orders o JOIN eiwo_order_input i ON i.file_id = o.file_id AND i.line_no = o.line_no
        JOIN file_ledger l ON l.file_id = o.file_id WHERE o.cycle_id = $1 AND o.submitter = $2
        UNION ALL
        SELECT l.file_name, r.line, NULL, NULL, NULL, NULL, NULL, 'REJECTED', r.code, NULL, NULL, NULL, NULL,
            l.cycle_id, l.file_id, r.message
        FROM rejects r JOIN file_ledger l ON l.file_id = r.file_id
        WHERE l.cycle_id = $1 AND l.submitter = $2 AND l.status = 'loaded' AND l.layout IN ('eiwo_order', 'eiwo_order_csv')
          AND r.record_type = 'DTL' AND r.line > 0
        QUALIFY row_number() OVER (PARTITION BY r.file_id, r.line ORDER BY r.field, r.code) = 1
        ORDER BY file_id, source_line""",
        [cycle, state],
    )
    return res.with_columns(pl.coalesce("message", _messages(res)).alias("reason_message")).drop("file_id", "message")


def _acks(con: duckdb.DuckDBPyConnection, cycle: str, state: str) -> pl.DataFrame:
    rows = frame(
        con,
        """SELECT a.row_json, o.document_tracking_id AS tracking, o.case_id AS order_case, oi.row_json AS order_json,
            k.data_withheld, k.days_to_ack, c.as_of AS order_sent_date, k.cycle_id AS ack_cycle
        FROM eiwo_acks k JOIN eiwo_ack_input a ON a.file_id = k.file_id AND a.line_no = k.line_no
        JOIN eiwo_orders o ON o.file_id = k.order_file_id AND o.line_no = k.order_line_no
        JOIN eiwo_order_input oi ON oi.file_id = o.file_id AND oi.line_no = o.line_no
        JOIN cycles c ON c.cycle_id = o.cycle_id
        WHERE k.cycle_id = ? AND k.status = 'routed' AND k.state = ? ORDER BY k.file_id, k.line_no""",
        [cycle, state],
    )
    acks = _json(rows, ACK_FIELDS).with_columns(
        pl.col("order_json").str.json_path_match("$.employer_name").alias("employer_name")
    )
    hide = pl.col("data_withheld") == "Y"
    return acks.select(
        pl.col("tracking").alias("document_tracking_id"),
        pl.col("order_case").alias("case_id"),
        "document_action_code",
        "employee_ssn",
        "employee_last_name",
        "employee_first_name",
        "disposition_status",
        "disposition_reason",
        (pl.col("disposition_status") + pl.col("disposition_reason").fill_null(""))
        .replace_strict(DISPOSITIONS, default=None)
        .alias("disposition_text"),
        pl.col("other_state_fips").replace_strict(FIPS_STATE, default=None).alias("other_state"),
        *[pl.col(c) for c in ("termination_date", "final_payment_date", "final_payment_amount")],
        *[pl.col(c) for c in ("lump_sum_payment_date", "lump_sum_payment_amount", "ack_date")],
        "order_sent_date",
        "days_to_ack",
        "data_withheld",
        pl.col("ack_cycle").alias("cycle_id"),
        *[pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in ACK_WITHHELD],
    )


def _new(con: duckdb.DuckDBPyConnection, cycle: str, state: str) -> pl.DataFrame:
    hide = "CASE WHEN n.data_withheld = 'Y' THEN NULL ELSE {} END"
    cols = {
        "new_employer_fein": "w.employer_fein",
        "new_employer_name": "w.employer_name",
        "new_employer_address_line_1": "w.employer_address_line_1",
        "new_employer_city": "w.employer_city",
        "new_employer_state": "w.employer_state",
        "new_employer_zip": "w.employer_zip",
        "hire_date": "w.hire_date",
    }
    masked = ", ".join(f"{hide.format(v)} AS {k}" for k, v in cols.items())
    return frame(
        con,
        f"""SELECT o.document_tracking_id, o.case_id, n.ssn AS employee_ssn, w.last_name AS employee_last_name,
            w.first_name AS employee_first_name, {hide.format("o.employer_fein")} AS order_fein, {masked}, n.data_withheld,
            n.evidence ->> 'rule' AS rule, n.cycle_id
        FROM eiwo_notices n JOIN eiwo_orders o ON o.file_id = n.order_file_id AND o.line_no = n.order_line_no
        JOIN ndnh w ON w.ndnh_id = n.ndnh_id
        WHERE n.cycle_id = ? AND n.kind = 'NEW' AND n.state = ? ORDER BY n.order_file_id, n.order_line_no, n.ndnh_id""",
        [cycle, state],
    )


def state_blocks(con: duckdb.DuckDBPyConnection, cycle: str, as_of: date, state: str) -> Blocks:
    res, acks, new = _res(con, cycle, state), _acks(con, cycle, state), _new(con, cycle, state)
    head = _head(f"S{_digits(cycle)}{STATE_FIPS.get(state, '00')}", as_of, STATE_FIPS.get(state))
    counts = {"res_count": [res.height], "ack_count": [acks.height], "new_count": [new.height]}
    return [("FHS", head), ("RES", res), ("ACK", acks), ("NEW", new), ("FTS", pl.DataFrame(counts))]


def ack_results(con: duckdb.DuckDBPyConnection, cycle: str) -> pl.DataFrame:
    """One ARS row per acknowledgment line of the cycle (routed, refused or rejected), with its submitter."""
    rows = frame(
        con,
        """SELECT k.submitter, l.file_name AS source_file, k.line_no AS source_line, a.document_tracking_id,
            a.employee_ssn, a.disposition_status, a.disposition_reason,
            CASE k.status WHEN 'routed' THEN 'ROUTED' ELSE 'REFUSED' END AS result, k.reason_code,
            k.state AS routed_state, k.cycle_id, k.file_id, NULL AS message
        FROM eiwo_acks k JOIN eiwo_ack_input a ON a.file_id = k.file_id AND a.line_no = k.line_no
        JOIN file_ledger l ON l.file_id = k.file_id WHERE k.cycle_id = $1
        UNION ALL
        SELECT l.submitter, l.file_name, r.line, NULL, NULL, NULL, NULL, 'REJECTED', r.code, NULL, l.cycle_id,
            l.file_id, r.message
        FROM rejects r JOIN file_ledger l ON l.file_id = r.file_id
        WHERE l.cycle_id = $1 AND l.status = 'loaded' AND l.layout IN ('eiwo_ack', 'eiwo_ack_csv')
          AND r.record_type = 'ACK' AND r.line > 0
        QUALIFY row_number() OVER (PARTITION BY r.file_id, r.line ORDER BY r.field, r.code) = 1
        ORDER BY submitter, file_id, source_line""",
        [cycle],
    )
    return rows.with_columns(pl.coalesce("message", _messages(rows)).alias("reason_message")).drop("file_id", "message")


def ack_result_files(rows: pl.DataFrame, cycle: str, as_of: date) -> pl.DataFrame:
    """Every employer's EIWOACKRES file rendered at once: columns submitter, data, ars_count."""
    layout, digits = load_layout("eiwo_ack_result"), _digits(cycle)
    rows = rows.with_columns(pl.int_range(pl.len()).over("submitter").alias("seq"))
    files = rows.group_by("submitter", maintain_order=True).agg(pl.len().cast(pl.Int64).alias("ars_count"))
    files = files.with_columns(
        pl.format("K{}{}", pl.lit(digits), pl.col("submitter").str.slice(4)).alias("control_number"),
        pl.col("submitter").str.slice(4).alias("ein"),
        pl.lit(as_of).alias("creation_date"),
        pl.lit("000000").alias("creation_time"),
    )
    parts = [
        files.select(
            "submitter",
            pl.lit(0).alias("k"),
            pl.lit(0).alias("seq"),
            render_records(files, layout.record("FHK")).alias("line"),
        ),
        rows.select("submitter", pl.lit(1).alias("k"), "seq", render_records(rows, layout.record("ARS")).alias("line")),
        files.select(
            "submitter",
            pl.lit(2).alias("k"),
            pl.lit(0).alias("seq"),
            render_records(files, layout.record("FTK")).alias("line"),
        ),
    ]
    text = (
        pl.concat(parts, how="vertical_relaxed")
        .sort("submitter", "k", "seq", maintain_order=True)
        .group_by("submitter", maintain_order=True)
        .agg((pl.col("line").str.join("\n") + "\n").alias("data"))
    )
    return files.select("submitter", "ars_count").join(text, on="submitter", how="left", maintain_order="left")


def _list(con: duckdb.DuckDBPyConnection, sql: str, cycle: str) -> list[str]:
    return [r[0] for r in con.execute(sql, [cycle]).fetchall()]


def _write(home: Path, cycle: str, recipient: str, files: list[tuple[str, str, Blocks]]) -> list[dict]:
    folder = Path(home) / "outbound" / recipient / cycle
    folder.mkdir(parents=True, exist_ok=True)
    entries = [write_file(folder, name, layout, blocks) for name, layout, blocks in files]
    merge_manifest(folder, cycle, recipient, entries)
    return [{"recipient": recipient, **e} for e in entries]


def _write_employers(home: Path, cycle: str, as_of: date, orders: pl.DataFrame) -> list[dict]:
    """EIWO.<EMP>.<cycle>.dat to every recipient, plus the No Programming Option's page and spreadsheet; one
    manifest merge per recipient (the loop turns per employer, the rendering is done once for all)."""
    if orders.is_empty():
        return []
    rendered = employer_files(orders, cycle, as_of)
    npo = orders.filter(pl.col("delivery") == "NPO").get_column("recipient_fein").unique().implode()
    documents = npo_documents(orders.filter(pl.col("recipient_fein").is_in(npo)), cycle)
    rendered = rendered.join(documents, on="recipient_fein", how="left", maintain_order="left")
    out = []
    for row in rendered.iter_rows(named=True):
        who = f"EMP-{row['recipient_fein']}"
        folder = Path(home) / "outbound" / who / cycle
        counts = {"FHI": 1, "BHI": row["batch_count"], "DTL": row["orders"], "BTI": row["batch_count"], "FTI": 1}
        entries = [write_entry(folder, f"EIWO.{who}.{cycle}.dat", "eiwo_employer", row["data"].encode(), counts)]
        if row["html"] is not None:
            entries.append(write_entry(folder, f"EIWO.{who}.{cycle}.html", "eiwo_npo_html", row["html"].encode(), {}))
            sheet = row["sheet"].encode()
            entries.append(
                write_entry(folder, f"EIWOACK.{who}.{cycle}.csv", "eiwo_ack_csv", sheet, {"ACK": row["orders"]})
            )
        merge_manifest(folder, cycle, who, entries)
        out += [{"recipient": who, **e} for e in entries]
    return out


def write_eiwo_outbound(con: duckdb.DuckDBPyConnection, home: Path, cycle: str, as_of: date) -> list[dict]:
    out = _write_employers(home, cycle, as_of, sent_orders(con, cycle))
    order_layouts = "', '".join(ORDER_LAYOUTS)
    states = _list(
        con,
        f"""SELECT DISTINCT submitter FROM file_ledger WHERE cycle_id = $1 AND status = 'loaded'
            AND layout IN ('{order_layouts}')
        UNION SELECT DISTINCT state FROM eiwo_acks WHERE cycle_id = $1 AND status = 'routed'
        UNION SELECT DISTINCT state FROM eiwo_notices WHERE cycle_id = $1 AND kind = 'NEW' ORDER BY 1""",
        cycle,
    )
    for st in states:
        out += _write(
            home, cycle, st, [(f"EIWORES.{st}.{cycle}.dat", "eiwo_state_ack", state_blocks(con, cycle, as_of, st))]
        )
    results = ack_results(con, cycle)
    if results.height:
        for sub, n, data in ack_result_files(results, cycle, as_of).iter_rows():  # one turn per employer
            folder = Path(home) / "outbound" / sub / cycle
            counts = {"FHK": 1, "ARS": n, "FTK": 1}
            entry = write_entry(folder, f"EIWOACKRES.{sub}.{cycle}.dat", "eiwo_ack_result", data.encode(), counts)
            merge_manifest(folder, cycle, sub, [entry])
            out.append({"recipient": sub, **entry})
    return out
