"""e-IWO outbound files, rewritten from the store on every (re)run so a resumed cycle gives the same bytes.

- EIWO.EMP-<FEIN>.<cycle>.dat (eiwo_employer) to each recipient of orders sent this cycle: one BHI batch per
  (issuing state, employer FEIN), the detail records as the state sent them. Recipients on the No Programming
  Option also get EIWO.EMP-<FEIN>.<cycle>.html (the orders, readable) and EIWOACK.EMP-<FEIN>.<cycle>.csv (the
  acknowledgment spreadsheet, prefilled; eiwo_ack_csv) — pipeline/enforcement/eiwo_npo.py.
- EIWORES.<ST>.<cycle>.dat (eiwo_state_ack) to each state that sent orders or has acknowledgments / notices
  (pipeline/enforcement/eiwo_results.py).
- EIWOACKRES.EMP-<FEIN>.<cycle>.dat (eiwo_ack_result) to each employer that sent acknowledgments: an ARS record
  for every acknowledgment line (ROUTED / REFUSED / REJECTED with the reason).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipeline.enforcement.eiwo_load import ORDER_FIELDS, ORDER_LAYOUTS
from pipeline.enforcement.eiwo_npo import npo_documents
from pipeline.enforcement.eiwo_results import cycle_digits, reason_messages, state_blocks, unpack_json
from pipeline.files.codes import STATE_FIPS
from pipeline.files.delivery import merge_manifest, write_entry, write_file
from pipeline.files.layouts import load_layout
from pipeline.files.writer import Blocks, files_bytes, render_records
from pipeline.store import frame


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
    return unpack_json(rows, ORDER_FIELDS)


def employer_files(orders: pl.DataFrame, cycle: str, as_of: date) -> pl.DataFrame:
    """Every recipient's EIWO file rendered at once (one render per record type, not per file): columns
    recipient_fein, data (the file's text), batches, orders. One BHI batch per (issuing state, employer FEIN)."""
    layout, digits = load_layout("eiwo_employer"), cycle_digits(cycle)
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
    return rows.with_columns(pl.coalesce("message", reason_messages(rows)).alias("reason_message")).drop(
        "file_id", "message"
    )


def ack_result_files(rows: pl.DataFrame, cycle: str, as_of: date) -> list[tuple[str, int, bytes]]:
    """Every employer's EIWOACKRES file rendered at once: (submitter, ARS count, the file's bytes)."""
    layout, digits = load_layout("eiwo_ack_result"), cycle_digits(cycle)
    files = rows.group_by("submitter", maintain_order=True).agg(pl.len().cast(pl.Int64).alias("ars_count"))
    files = files.with_columns(
        pl.format("K{}{}", pl.lit(digits), pl.col("submitter").str.slice(4)).alias("control_number"),
        pl.col("submitter").str.slice(4).alias("ein"),
        pl.lit(as_of).alias("creation_date"),
        pl.lit("000000").alias("creation_time"),
    )
    data = files_bytes(layout, [("FHK", files), ("ARS", rows), ("FTK", files)], "submitter")
    return [(sub, n, data[sub]) for sub, n in files.select("submitter", "ars_count").iter_rows()]


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
        for sub, n, data in ack_result_files(results, cycle, as_of):  # one turn per employer
            folder = Path(home) / "outbound" / sub / cycle
            counts = {"FHK": 1, "ARS": n, "FTK": 1}
            entry = write_entry(folder, f"EIWOACKRES.{sub}.{cycle}.dat", "eiwo_ack_result", data, counts)
            merge_manifest(folder, cycle, sub, [entry])
            out.append({"recipient": sub, **entry})
    return out
