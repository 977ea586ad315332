"""Outbound stage: per-recipient fixed-width files for one cycle, built from the store via the layouts.

outbound/<recipient>/<cycle>/ gets FCRRESP.<ST>.<cycle>.dat (states), ACK.<submitter>.<cycle>.dat (every
submitter that sent a file), R4.<submitter>.<cycle>.dat (W-4 submitters) and manifest.json (sha256 and
record counts). Everything is derived from the store in a fixed order, so rewriting a cycle's files
(after a crash) gives the same bytes. Files are written atomically with mode 0640.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipeline.files.delivery import write_entry, write_manifest
from pipeline.files.layouts import load_layout
from pipeline.files.writer import Blocks, files_bytes, fixed_bytes
from pipeline.safeguards.faults import checkpoint
from pipeline.store import frame

MAX_ERRORS_PER_FILE = 1000


@dataclass
class OutboundResult:
    files: list[dict] = field(default_factory=list)

    def count(self, recipient: str, record: str) -> int:
        return sum(f["records"].get(record, 0) for f in self.files if f["recipient"] == recipient)


def _fd(con, cycle: str, state: str) -> pl.DataFrame:
    return frame(
        con,
        """SELECT * EXCLUDE (file_id) FROM ack_fd WHERE cycle_id = ? AND state = ?
        ORDER BY file_id, source_line""",
        [cycle, state],
    )


def _fs(con, cycle: str, state: str) -> pl.DataFrame:
    return frame(
        con,
        """SELECT * EXCLUDE (file_id) FROM ack_fs WHERE cycle_id = ? AND state = ?
        ORDER BY file_id NULLS LAST, source_line, case_id, member_id""",
        [cycle, state],
    )


def _fn(con, cycle: str, state: str) -> pl.DataFrame:
    hidden = (
        "employer_fein",
        "employer_name",
        "employer_address_line_1",
        "employer_address_line_2",
        "employer_city",
        "employer_state",
        "employer_zip",
        "address_line_1",
        "address_line_2",
        "city",
        "zip",
    )
    masked = ", ".join(f"CASE WHEN m.data_withheld = 'Y' THEN NULL ELSE n.{c} END AS {c}" for c in hidden)
    return frame(
        con,
        f"""WITH people AS (
            SELECT state, case_id, member_id, first_name, middle_name, last_name, verified_ssn, participant_type
            FROM fcr_persons WHERE state = $2
            UNION ALL  -- locate-only requests for members not on the FCR are answered too
            SELECT l.state, l.case_id, l.member_id, i.first_name, i.middle_name, i.last_name, l.verified_ssn,
                   l.participant_type
            FROM locate_requests l JOIN fcr_person_input i ON i.file_id = l.file_id AND i.line_no = l.line_no
            WHERE l.cycle_id = $1 AND l.state = $2 AND NOT EXISTS (SELECT 1 FROM fcr_persons f
                  WHERE f.state = l.state AND f.case_id = l.case_id AND f.member_id = l.member_id)
            QUALIFY row_number() OVER (PARTITION BY l.state, l.case_id, l.member_id ORDER BY l.file_id, l.line_no) = 1)
        SELECT m.match_type, m.state, m.source AS agency_code, m.name_indicator,
            coalesce(n.first_name, p.first_name) AS first_name, coalesce(n.middle_name, p.middle_name) AS middle_name,
            coalesce(n.last_name, p.last_name) AS last_name, coalesce(n.verified_ssn, p.verified_ssn) AS ssn,
            m.case_id, m.member_id, p.participant_type, m.cycle_id, m.data_withheld, n.hire_date,
            n.reporting_period, n.wage_amount, n.benefit_amount, {masked},
            CASE WHEN m.data_withheld = 'Y' THEN NULL ELSE n.state END AS address_state, n.dob
        FROM matches m LEFT JOIN ndnh n ON n.ndnh_id = m.ndnh_id
        JOIN people p ON p.state = m.state AND p.case_id = m.case_id AND p.member_id = m.member_id
        WHERE m.cycle_id = $1 AND m.state = $2
        ORDER BY m.case_id, m.member_id, m.match_type, m.source, m.fact_key""",
        [cycle, state],
    )


def _ft(con, cycle: str, state: str) -> pl.DataFrame:
    return frame(
        con,
        """SELECT 'P' AS action_type, 'MA' AS response_code, * EXCLUDE (fact_key) FROM ft_out
        WHERE cycle_id = ? AND state = ? ORDER BY case_id, member_id, matched_state, fact_key""",
        [cycle, state],
    )


def fcr_blocks(con: duckdb.DuckDBPyConnection, cycle: str, as_of: date, state: str) -> Blocks:
    fd, fs, fn, ft = _fd(con, cycle, state), _fs(con, cycle, state), _fn(con, cycle, state), _ft(con, cycle, state)
    header = pl.DataFrame({"recipient_state": [state], "date_stamp": [as_of], "cycle_id": [cycle]})
    trailer = pl.DataFrame(
        {"fd_count": [fd.height], "fs_count": [fs.height], "fn_count": [fn.height], "ft_count": [ft.height]}
    )
    return [("RH", header), ("FD", fd), ("FS", fs), ("FN", fn), ("FT", ft), ("RZ", trailer)]


def ack_blocks(con: duckdb.DuckDBPyConnection, cycle: str, as_of: date) -> Blocks:
    """The ACK files of every submitter of the cycle as blocks keyed by `submitter` (one query per record type
    for all of them: a cycle hears from over a thousand employers)."""
    files = frame(
        con,
        """WITH errors AS (SELECT file_id, count(*) AS error_count FROM rejects WHERE line > 0
                        AND file_id IN (SELECT file_id FROM file_ledger WHERE cycle_id = $1) GROUP BY ALL)
        SELECT submitter, row_number() OVER (PARTITION BY submitter ORDER BY file_id)::VARCHAR AS file_seq, file_id,
            file_name, sha256, layout, CASE status WHEN 'loaded' THEN 'ACCEPTED' ELSE upper(status) END AS file_status,
            records, accepted, rejected, reason_codes[1] AS reason_code_1, reason_codes[2] AS reason_code_2,
            reason_codes[3] AS reason_code_3, coalesce(e.error_count, 0) AS error_count, cycle_id
        FROM file_ledger l LEFT JOIN errors e USING (file_id) WHERE cycle_id = $1 ORDER BY submitter, file_id""",
        [cycle],
    )
    errs = frame(
        con,
        """SELECT f.submitter, f.file_seq, r.line::VARCHAR AS line, r.record_type, r.field, r.code, r.severity,
            r.value, left(r.message, 150) AS message, $1 AS cycle_id
        FROM rejects r JOIN (SELECT unnest($2::INTEGER[]) AS file_id, unnest($3::VARCHAR[]) AS file_seq,
                                    unnest($4::VARCHAR[]) AS submitter) f USING (file_id)
        QUALIFY row_number() OVER (PARTITION BY r.file_id ORDER BY r.line, r.record_type, r.field, r.code) <= $5
        ORDER BY f.submitter, r.file_id, r.line, r.record_type, r.field, r.code""",
        [cycle, *(files[c].to_list() for c in ("file_id", "file_seq", "submitter")), MAX_ERRORS_PER_FILE],
    )
    submitters = files.select("submitter").unique(maintain_order=True)
    header = submitters.with_columns(pl.lit(as_of).alias("date_stamp"), pl.lit(cycle).alias("cycle_id"))
    trailer = submitters.join(
        files.group_by("submitter").agg(pl.len().alias("file_count")), on="submitter", how="left"
    ).join(errs.group_by("submitter").agg(pl.len().alias("error_count")), on="submitter", how="left")
    trailer = trailer.with_columns(pl.col("error_count").fill_null(0))
    return [("AH", header), ("AF", files.drop("file_id")), ("AE", errs), ("AT", trailer)]


def r4_blocks(con: duckdb.DuckDBPyConnection, cycle: str) -> Blocks:
    """The R4 control records of every W-4 submitter of the cycle, keyed by `submitter`."""
    rows = frame(
        con,
        """WITH w4 AS (SELECT * FROM file_ledger WHERE cycle_id = ? AND layout IN ('ndnh_w4', 'new_hire_csv')),
        errors AS (SELECT file_id, count(*) AS n FROM rejects WHERE severity = 'E'
                   AND file_id IN (SELECT file_id FROM w4) GROUP BY ALL),
        posted AS (SELECT file_id, count(*) FILTER (WHERE verification = 'V') AS v,
                          count(*) FILTER (WHERE verification = 'U') AS u
                   FROM ndnh WHERE file_id IN (SELECT file_id FROM w4) GROUP BY ALL)
        SELECT l.submitter, l.file_id, l.file_name, l.header_json, l.records AS received_count,
            l.rejected AS rejected_count, coalesce(e.n, 0) AS error_records_returned,
            coalesce(p.v, 0) AS posted_count, coalesce(p.u, 0) AS posted_unverified_count,
            CASE l.status WHEN 'rejected' THEN 'BREJ' WHEN 'duplicate' THEN 'BDUP' END AS batch_error_code, l.cycle_id
        FROM w4 l LEFT JOIN errors e USING (file_id) LEFT JOIN posted p USING (file_id)
        ORDER BY l.submitter, l.file_id""",
        [cycle],
    )
    header_cols = [
        "transmitter_state_fips",
        "transmitter_agency_code",
        "dod_code",
        "version",
        "date_stamp",
        "batch_number",
    ]
    headers = pl.DataFrame(
        [{k: json.loads(h or "{}").get(k) for k in header_cols} for h in rows["header_json"]],
        schema={k: pl.Utf8 for k in header_cols},
    )
    headers = headers.with_columns(pl.col("date_stamp").str.replace_all("-", ""))
    return [("R4", pl.concat([rows.drop("header_json", "file_id"), headers], how="horizontal"))]


def _keyed_files(layout_name: str, blocks: Blocks, key: str) -> dict[str, tuple[bytes, dict]]:
    """Per key (a recipient): its file's bytes and records per record type."""
    data = files_bytes(load_layout(layout_name), blocks, key)
    counts = {rid: dict(f.group_by(key).len().iter_rows()) for rid, f in blocks}
    return {k: (b, {rid: counts[rid].get(k, 0) for rid, _ in blocks}) for k, b in data.items()}


def _counts(blocks: Blocks) -> dict:
    return {rid: f.height for rid, f in blocks}


def _write(folder: Path, recipient: str, name: str, layout_name: str, data: bytes, records: dict) -> dict:
    entry = write_entry(folder, name, layout_name, data, records)
    checkpoint("outbound")
    return {"recipient": recipient, **entry}


def _clean_temps(folder: Path) -> None:
    for tmp in folder.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def write_outbound(con: duckdb.DuckDBPyConnection, home: Path, cycle: str, as_of: date) -> OutboundResult:
    result = OutboundResult()
    states = [
        r[0]
        for r in con.execute(
            """SELECT DISTINCT state FROM (
        SELECT state FROM ack_fd WHERE cycle_id = $1 UNION SELECT state FROM ack_fs WHERE cycle_id = $1
        UNION SELECT state FROM matches WHERE cycle_id = $1 UNION SELECT state FROM ft_out WHERE cycle_id = $1)
        ORDER BY 1""",
            [cycle],
        ).fetchall()
    ]
    plan: dict[str, list[tuple[str, str, bytes, dict]]] = {}
    for st in states:
        blocks = fcr_blocks(con, cycle, as_of, st)
        data = fixed_bytes(load_layout("fcr_response"), blocks)
        plan.setdefault(st, []).append((f"FCRRESP.{st}.{cycle}.dat", "fcr_response", data, _counts(blocks)))
    for sub, (data, counts) in _keyed_files("ack", ack_blocks(con, cycle, as_of), "submitter").items():
        plan.setdefault(sub, []).append((f"ACK.{sub}.{cycle}.dat", "ack", data, counts))
    for sub, (data, counts) in _keyed_files("ndnh_w4_control", r4_blocks(con, cycle), "submitter").items():
        plan.setdefault(sub, []).append((f"R4.{sub}.{cycle}.dat", "ndnh_w4_control", data, counts))
    for recipient in sorted(plan):
        folder = home / "outbound" / recipient / cycle
        folder.mkdir(parents=True, exist_ok=True)
        _clean_temps(folder)
        entries = [_write(folder, recipient, *file) for file in plan[recipient]]
        write_manifest(folder, cycle, recipient, [{k: v for k, v in e.items() if k != "recipient"} for e in entries])
        result.files.extend(entries)
    return result
