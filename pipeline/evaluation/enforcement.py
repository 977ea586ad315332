"""Precision / recall / F1 of the enforcement matches against the generator's truth (for `fpls eval`).

Records are tied to the truth by (file name, line) (pipeline.evaluation.cycle.read_truth). A debtor is a
registry row, identified by the offset line that added it (`debtors.source_file_id/source_line`); only
debtors active at evaluation time and in the source's population count (MSFIDM: no FIN exclusion,
insurance: no INS exclusion), so a debtor the offset stage rightly rejected is not a missed match.

- msfidm: pairs (debtor, B account record) — true when both records belong to the same person.
- insurance: pairs (debtor, claim record); also split into insurance_with_ssn / insurance_without_ssn by
  whether the claim carried an SSN.
- debt_inquiry: pairs (debtor, lump-sum notice record).
- etermination: pairs (termination notice record, NDNH W-4 record from the same employer FEIN received on or
  before the cycle date) — the evidence match; the fan-out to FCR states is mechanical.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipeline.enforcement.common import has_code
from pipeline.evaluation.metrics import pair_metrics
from pipeline.evaluation.truth import read_truth
from pipeline.store import frame

POPULATION = {"msfidm": "FIN", "insurance": "INS", "debt_inquiry": None}
TABLES = {"msfidm": "msfidm_accounts", "insurance": "insurance_claims", "debt_inquiry": "debt_inquiries"}


def _cycle(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("SELECT max(cycle_id) FROM cycle_stages WHERE stage = 'enforcement'").fetchone()
    if row is None or row[0] is None:
        raise LookupError("no cycle with an enforcement stage in the store")
    return row[0]


def _debtors(con, truth: pl.DataFrame, exclusion: str | None) -> pl.DataFrame:
    excl = f"AND NOT {has_code('d.exclusions', exclusion)}" if exclusion else ""
    d = frame(
        con,
        f"""SELECT d.state, d.ssn, l.file_name, d.source_line AS line_no,
            l.file_name || ':' || d.source_line AS left_id
        FROM debtors d JOIN file_ledger l ON l.file_id = d.source_file_id WHERE d.status = 'active' {excl}""",
    )
    return d.join(truth, on=["file_name", "line_no"], how="left")


def _records(con, truth: pl.DataFrame, table: str, cycle: str, extra: str = "") -> pl.DataFrame:
    r = frame(
        con,
        f"""SELECT r.file_id, r.line_no, l.file_name, l.file_name || ':' || r.line_no AS right_id {extra}
        FROM {table} r JOIN file_ledger l USING (file_id) WHERE r.cycle_id = ? AND l.status = 'loaded'""",
        [cycle],
    )
    return r.join(truth, on=["file_name", "line_no"], how="left")


def _debtor_source(con, cycle: str, source: str, truth: pl.DataFrame, split: str | None = None) -> dict:
    debt = _debtors(con, truth, POPULATION[source])
    extra = ", coalesce(r.claimant_ssn, r.obligor_ssn) IS NOT NULL AS has_ssn" if source == "insurance" else ""
    recs = _records(con, truth, TABLES[source], cycle, extra)
    m = frame(
        con,
        "SELECT state, ssn, file_id, line_no FROM enforcement_matches WHERE cycle_id = ? AND source = ?",
        [cycle, source],
    )
    pred = m.join(debt.select("state", "ssn", "left_id"), on=["state", "ssn"]).join(
        recs.select(
            pl.col("file_id").cast(m.schema["file_id"]), "line_no", "right_id", *(["has_ssn"] if extra else [])
        ),
        on=["file_id", "line_no"],
    )
    true = (
        debt.filter(pl.col("person_id").is_not_null())
        .select("left_id", "person_id")
        .join(recs.filter(pl.col("person_id").is_not_null()), on="person_id")
    )
    out = {source: pair_metrics(pred, true)}
    if extra:
        for name, flag in (("insurance_with_ssn", True), ("insurance_without_ssn", False)):
            out[name] = pair_metrics(pred.filter(pl.col("has_ssn") == flag), true.filter(pl.col("has_ssn") == flag))
    return out


def _etermination(con, cycle: str, truth: pl.DataFrame) -> dict:
    et = _records(con, truth, "terminations", cycle, ", r.employer_fein").rename({"right_id": "left_id"})
    as_of = con.execute("SELECT as_of FROM cycles WHERE cycle_id = ?", [cycle]).fetchone()[0]
    w4 = frame(
        con,
        """SELECT n.ndnh_id::VARCHAR AS right_id, n.employer_fein, l.file_name, n.line_no FROM ndnh n
        JOIN file_ledger l USING (file_id) WHERE n.source = 'H99' AND n.received <= ?""",
        [as_of],
    )
    w4 = w4.join(truth, on=["file_name", "line_no"], how="left")
    pred = frame(
        con,
        """SELECT DISTINCT l.file_name || ':' || m.line_no AS left_id, m.ndnh_id::VARCHAR AS right_id
        FROM enforcement_matches m JOIN file_ledger l USING (file_id) WHERE m.cycle_id = ? AND m.source = 'etermination'""",
        [cycle],
    )
    # The exchange notifies the states that have the person in the FCR: a notice about someone no
    # state registered has no recipient, so only registered persons make true pairs.
    registered = (
        frame(
            con,
            """SELECT DISTINCT l.file_name, i.line_no FROM fcr_persons p
        JOIN fcr_person_input i USING (state, case_id, member_id) JOIN file_ledger l ON l.file_id = i.file_id
        WHERE p.status = 'active'""",
        )
        .join(truth, on=["file_name", "line_no"])
        .select("person_id")
        .unique()
    )
    true = (
        et.filter(pl.col("person_id").is_not_null())
        .select("left_id", "person_id", "employer_fein")
        .join(w4.filter(pl.col("person_id").is_not_null()), on=["person_id", "employer_fein"])
        .join(registered, on="person_id", how="semi")
    )
    # Scored per notice: right when it reached the true person's W-4 history at that employer (any one of
    # the person's W-4s there; a person rehired by the same employer has several).
    as_person = w4.select("right_id", pl.col("person_id").cast(pl.Utf8).fill_null("unknown"))
    pred = pred.join(as_person, on="right_id", how="left").select("left_id", pl.col("person_id").alias("right_id"))
    true = true.select("left_id", pl.col("person_id").cast(pl.Utf8).alias("right_id"))
    return {"etermination": pair_metrics(pred, true)}


def enforcement_eval(con: duckdb.DuckDBPyConnection, truth: pl.DataFrame | Path | str) -> dict[str, dict]:
    """{source: {precision, recall, f1, tp, fp, fn}} for msfidm, insurance (+ with / without SSN),
    debt_inquiry, etermination of the latest cycle that ran the enforcement stage."""
    if not isinstance(truth, pl.DataFrame):
        truth = read_truth(Path(truth))
    cycle = _cycle(con)
    out: dict[str, dict] = {}
    for source in ("msfidm", "insurance", "debt_inquiry"):
        out.update(_debtor_source(con, cycle, source, truth))
    out.update(_etermination(con, cycle, truth))
    return out
