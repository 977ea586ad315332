"""Electronic Document Exchange: documents dropped with a manifest (ede_manifest_csv) are checked
(recipient a registered state other than the sender, document present with the declared sha256, a
response answers an open request addressed to the sender) and delivered byte for byte to
outbound/<recipient>/<cycle>/ as EDE-nnnnnn.<SENDER>.<file>. Every exchange is a row of `ede_exchanges`
(the audit log) and of the disclosure log; the sender's receipt carries the sha256."""

from __future__ import annotations

import duckdb
import polars as pl

from pipeline.portal.common import (
    PortalContext,
    attachments,
    check_document,
    deliver_bytes,
    registered_states,
    staged,
)
from pipeline.store import frame, insert_frame, transaction

LEGAL_BASIS = "intergovernmental document exchange between IV-D agencies (45 CFR 303.7)"


def _open_requests(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    rows = frame(
        con,
        """SELECT exchange_id, sender, recipient FROM ede_exchanges q
        WHERE exchange_type = 'REQUEST' AND status = 'delivered' AND NOT EXISTS (
            SELECT 1 FROM ede_exchanges r WHERE r.exchange_type = 'RESPONSE' AND r.status = 'delivered'
              AND r.request_ref = q.exchange_id)""",
    )
    return {r["exchange_id"]: r for r in rows.iter_rows(named=True)}


def _check(r: dict, states: set[str], docs: pl.DataFrame, open_requests: dict) -> tuple[dict | None, str, str]:
    if r["recipient_state"] not in states or r["recipient_state"] == r["submitter"]:
        return None, "EDE_BAD_RECIPIENT", f"{r['recipient_state']} is not another registered state"
    if r["exchange_type"] != "REQUEST" and not r["document_file"]:
        return None, "EDE_DOCUMENT_REQUIRED", f"a {r['exchange_type']} needs document_file"
    if r["document_file"] and not r["document_sha256"]:
        return None, "REQUIRED", "document_sha256 is required with a document"
    if r["exchange_type"] == "RESPONSE":
        req = open_requests.get(r["request_ref"] or "")
        if req is None or req["recipient"] != r["submitter"] or req["sender"] != r["recipient_state"]:
            return (
                None,
                "EDE_BAD_REQUEST_REF",
                f"{r['request_ref'] or 'request_ref'} is not an open request from "
                f"{r['recipient_state']} to {r['submitter']}",
            )
    return check_document(docs, r["submitter"], r["document_file"], r["document_sha256"])


def process(ctx: PortalContext) -> tuple[int, int]:
    """Number and check every manifest row of the cycle → ede_exchanges (delivered / rejected)."""
    rows = staged(ctx.con, ctx.cycle_id, "ede_manifest_csv")
    states, docs = registered_states(ctx.con), attachments(ctx.con, ctx.cycle_id)
    open_requests = _open_requests(ctx.con)
    first = int(ctx.con.execute("SELECT count(*) FROM ede_exchanges").fetchone()[0]) + 1
    out = []
    for n, r in enumerate(rows.iter_rows(named=True)):
        exchange_id = f"EDE-{first + n:06d}"
        doc, code, message = _check(r, states, docs, open_requests)
        delivered = None
        if doc is not None and not code:
            delivered = f"{exchange_id}.{r['submitter']}.{doc['file_name']}"
        if r["exchange_type"] == "REQUEST" and not code:
            open_requests[exchange_id] = {
                "exchange_id": exchange_id,
                "sender": r["submitter"],
                "recipient": r["recipient_state"],
            }
        if r["exchange_type"] == "RESPONSE" and not code:
            open_requests.pop(r["request_ref"], None)
        out.append(
            {
                "exchange_id": exchange_id,
                "cycle_id": ctx.cycle_id,
                "file_id": r["file_id"],
                "line_no": r["line_no"],
                "sender": r["submitter"],
                "recipient": r["recipient_state"],
                "case_id": r["case_id"],
                "document_type": r["document_type"],
                "exchange_type": r["exchange_type"],
                "request_ref": r["request_ref"],
                "document_file": doc["file_name"] if doc else r["document_file"],
                "delivered_name": delivered,
                "sha256": doc["sha256"] if doc else None,
                "bytes": doc["bytes"] if doc else None,
                "status": "rejected" if code else "delivered",
                "code": code or None,
                "message": message or None,
                "note": r["note"],
            }
        )
    if out:
        insert_frame(ctx.con, "ede_exchanges", pl.DataFrame(out, infer_schema_length=None))
    delivered = sum(1 for o in out if o["status"] == "delivered")
    return delivered, len(out) - delivered


def _disclosures(ctx: PortalContext, rows: pl.DataFrame) -> None:
    """One disclosure-log row per delivered document (the bytes are opaque: category `document`)."""
    ctx.con.execute("DELETE FROM disclosures WHERE cycle_id = ? AND layout = 'ede_document'", [ctx.cycle_id])
    log = rows.select(
        pl.lit(ctx.cycle_id).alias("cycle_id"),
        pl.col("recipient"),
        pl.col("delivered_name").alias("file_name"),
        pl.lit("ede_document").alias("layout"),
        pl.lit("ED").alias("record_type"),
        pl.col("line_no"),
        pl.lit(None, dtype=pl.Utf8).alias("person_key"),
        pl.lit(None, dtype=pl.Utf8).alias("member_id"),
        pl.lit(["document"]).alias("categories"),
        (pl.lit(LEGAL_BASIS + "; case ") + pl.col("case_id") + pl.lit(" from ") + pl.col("sender")).alias(
            "legal_basis"
        ),
    )
    insert_frame(ctx.con, "disclosures", log)


def deliver(ctx: PortalContext) -> list[dict]:
    """Copy every delivered document of the cycle to its recipient's outbound folder (byte-identical)."""
    from pipeline.portal.common import source_path

    rows = frame(
        ctx.con,
        """SELECT * FROM ede_exchanges WHERE cycle_id = ? AND status = 'delivered'
        AND delivered_name IS NOT NULL ORDER BY exchange_id""",
        [ctx.cycle_id],
    )
    out = [
        deliver_bytes(
            ctx, r["recipient"], r["delivered_name"], source_path(ctx, r["sender"], r["document_file"]), r["sha256"]
        )
        for r in rows.iter_rows(named=True)
    ]
    with transaction(ctx.con):
        _disclosures(ctx, rows)
    return out


def listing(con: duckdb.DuckDBPyConnection, state: str, open_only: bool = True) -> pl.DataFrame:
    """Exchanges that concern `state` (sent or addressed to it); open_only: requests still unanswered."""
    rows = frame(
        con,
        """SELECT q.exchange_id, q.cycle_id, q.sender, q.recipient, q.case_id, q.document_type,
            q.exchange_type, q.request_ref, q.status, q.code, q.delivered_name, q.sha256,
            CASE WHEN q.exchange_type = 'REQUEST' AND q.status = 'delivered' THEN coalesce((
                SELECT min(r.exchange_id) FROM ede_exchanges r WHERE r.exchange_type = 'RESPONSE'
                  AND r.status = 'delivered' AND r.request_ref = q.exchange_id), 'OPEN') END AS answered_by
        FROM ede_exchanges q WHERE (q.sender = $1 OR (q.recipient = $1 AND q.status = 'delivered'))
        ORDER BY q.exchange_id""",
        [state],
    )
    if open_only:
        rows = rows.filter(pl.col("answered_by") == "OPEN")
    return rows.with_columns(
        pl.when(pl.col("recipient") == state)
        .then(pl.lit("to answer"))
        .otherwise(pl.lit("awaiting answer"))
        .alias("role")
    )
