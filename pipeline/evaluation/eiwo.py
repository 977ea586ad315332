"""e-IWO scores for `fpls eval` against `truth_eiwo.parquet` (beside the truth file; synth/files_eiwo.py writes
it): one row per order or acknowledgment line with `expected` (the recipient FEIN an order must reach, the state an
acknowledgment must reach; null = it must be refused or rejected) and `outcome`. Lines are tied to the store by
(file name, line).

- eiwo_routing: pairs (order line, recipient FEIN) the store sent vs the truth's; plus `outcomes_agree` (lines
  whose outcome, SENT / REFUSED:<code> / REJECTED, is the truth's), `orders`, and `sent_to_unknown_fein`
  (orders sent although their FEIN is unknown: by the truth, or by the store — no W-4 / QW, MSER or partner).
- eiwo_acks: pairs (acknowledgment line, state). tp routed to the right state; `misrouted` = routed to another
  state or routed when it had to be refused; `lost` = had to reach a state and reached none; `unmatched_lines` =
  truth lines the store has no outcome for (0: nothing lost between the file and the exchange).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipeline.evaluation.metrics import pair_metrics
from pipeline.store import frame

TRUTH_NAME = "truth_eiwo.parquet"


def _lines(con: duckdb.DuckDBPyConnection, table: str, state: str, layouts: tuple[str, ...], rid: str) -> pl.DataFrame:
    """Every line of the e-IWO files of one kind: its store outcome, or REJECTED from the rejects."""
    names = ", ".join(f"'{n}'" for n in layouts)
    return frame(
        con,
        f"""SELECT l.file_name AS file, t.line_no AS line, t.status, t.reason_code, {state} AS got
        FROM {table} t JOIN file_ledger l USING (file_id)
        UNION ALL SELECT DISTINCT l.file_name, r.line, 'rejected', NULL, NULL FROM rejects r
        JOIN file_ledger l USING (file_id) WHERE l.layout IN ({names}) AND r.record_type = '{rid}' AND r.line > 0""",
    )


def _outcome(status: str, ok: str) -> pl.Expr:
    return (
        pl.when(pl.col("status") == status)
        .then(pl.lit(ok))
        .when(pl.col("status") == "rejected")
        .then(pl.lit("REJECTED"))
        .otherwise(pl.lit("REFUSED:") + pl.col("reason_code").fill_null(""))
    )


def _pairs(frame_: pl.DataFrame, id_col: str) -> pl.DataFrame:
    return frame_.filter(pl.col(id_col).is_not_null()).select(
        (pl.col("file") + ":" + pl.col("line").cast(pl.Utf8)).alias("left_id"), pl.col(id_col).alias("right_id")
    )


def routing(con: duckdb.DuckDBPyConnection, truth: pl.DataFrame) -> dict:
    t = truth.filter(pl.col("kind") == "order")
    got = _lines(
        con,
        "eiwo_orders",
        "CASE WHEN t.status = 'sent' THEN t.recipient_fein END",
        ("eiwo_order", "eiwo_order_csv"),
        "DTL",
    )
    joined = t.join(got.with_columns(_outcome("sent", "SENT").alias("got_outcome")), on=["file", "line"], how="left")
    known = frame(
        con,
        """SELECT count(*) AS n FROM eiwo_orders o WHERE o.status = 'sent' AND o.employer_fein NOT IN (
            SELECT employer_fein FROM ndnh WHERE employer_fein IS NOT NULL UNION SELECT employer_fein FROM employer_services
            UNION SELECT substr(partner_id, 5) FROM partners WHERE partner_id LIKE 'EMP-%')""",
    )["n"][0]
    unknown = joined.filter((pl.col("outcome") == "REFUSED:UNKNOWN_FEIN") & (pl.col("got_outcome") == "SENT")).height
    return {
        **pair_metrics(_pairs(got, "got"), _pairs(t, "expected")),
        "orders": t.height,
        "outcomes_agree": joined.filter(pl.col("outcome") == pl.col("got_outcome")).height,
        "sent_to_unknown_fein": unknown + int(known),
    }


def acks(con: duckdb.DuckDBPyConnection, truth: pl.DataFrame) -> dict:
    t = truth.filter(pl.col("kind") == "ack")
    got = _lines(
        con, "eiwo_acks", "CASE WHEN t.status = 'routed' THEN t.state END", ("eiwo_ack", "eiwo_ack_csv"), "ACK"
    )
    m = pair_metrics(_pairs(got, "got"), _pairs(t, "expected"))
    joined = t.join(got, on=["file", "line"], how="left")
    lost = joined.filter(pl.col("expected").is_not_null() & pl.col("got").is_null()).height
    misrouted = joined.filter(pl.col("got").is_not_null() & pl.col("got").ne_missing(pl.col("expected"))).height
    return {
        **m,
        "acks": t.height,
        "lost": lost,
        "misrouted": misrouted,
        "unmatched_lines": joined["status"].null_count(),
    }


def eiwo_eval(con: duckdb.DuckDBPyConnection, truth_path: Path) -> dict[str, dict]:
    """{eiwo_routing, eiwo_acks} when the home has an e-IWO truth file beside its truth, else {}."""
    path = Path(truth_path).with_name(TRUTH_NAME)
    if not path.is_file():
        return {}
    truth = pl.read_parquet(path)
    return {"eiwo_routing": routing(con, truth), "eiwo_acks": acks(con, truth)}
