"""Federal offset stage: apply each state's debtor-file transactions to the certified-debtor registry.

Registry `debtors`, key (state, SSN, case type). Accepted CASE records of the cycle (`offset_input`) are
checked in two steps, both vectorised:

1. record checks that need no registry state (codes of reference §3c; fpls interpretation where the
   public record is silent):
   01 record's state is not the submitting state · 04 first name blank on A / B · 05 arrearage blank on
   A / M, or $0 on A · 08 the same transaction for the same key earlier in this cycle (file, line order) ·
   12 A whose SSN is not on the SSA master (ITINs exempt: the master holds SSNs only) · 17 A / B whose
   last name's first 4 letters differ from the master's for that SSN · 23 T without a valid transfer state
   other than the submitting state · 29 L without a local code · P4 (fpls) C without a case ID.
2. registry checks and updates, in rounds: round k applies every person's (state, SSN) k-th transaction
   of the cycle, so transactions on one person apply in file order while each round is one join.
   06 A on a key that is active · 38 a transaction other than A on a key (or, for B / Z, a person) whose
   registry record is deleted · P1 (fpls) such a transaction on a key never registered · 19 M to $0 of a
   debt already at $0 (M carries the new absolute balance, unsigned, so this is the only "decrease of a
   $0 debt" the layout can express). An M with an unchanged amount is accepted (FOP rel. 04-01).

Transactions: A add (a deleted key is re-added); B name change and Z address change update every active
case type of the state's SSN (reference §3a); C case ID; D delete; L local code; M arrearage (absolute,
whole dollars); R replace exclusions (blank = none); T transfer for administrative review (records the
transfer state and local code; the submitting state keeps the debt); U update (any of case ID, local code,
arrearage given, others kept).

Layout-validation failures of the cycle's offset files are mapped to reject codes by field (01 state,
02 SSN, 03 last name, 04 first name, 05 arrearage, 07 transaction type, 09 case type, 23 transfer state
and local code, 26 process year, 33 exclusions, P3 (fpls) address fields, P2 (fpls) an unreadable record
such as a wrong length).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb
import polars as pl

from matchers.ssn import is_itin_expr
from pipeline.enforcement.common import key4
from pipeline.files.codes import STATE_FIPS
from pipeline.store import frame, insert_frame

KEY = ["state", "ssn", "case_type"]
PERSON = ["state", "ssn"]
NOT_ON_REGISTRY, UNREADABLE, BAD_ADDRESS, NO_CASE_ID = "P1", "P2", "P3", "P4"
FIELD_CODES = {
    "submitting_state": "01",
    "ssn": "02",
    "last_name": "03",
    "first_name": "04",
    "arrearage": "05",
    "transaction_type": "07",
    "case_type": "09",
    "transfer_state": "23",
    "transfer_local_code": "23",
    "process_year": "26",
    "exclusions": "33",
    "address_line_1": BAD_ADDRESS,
    "address_line_2": BAD_ADDRESS,
    "city": BAD_ADDRESS,
    "state": BAD_ADDRESS,
    "zip": BAD_ADDRESS,
}
# registry column -> transactions that set it from the input column of the same name
SETS = {
    "case_id": "CU",
    "local_code": "LU",
    "arrearage": "MU",
    "exclusions": "R",
    "transfer_state": "T",
    "transfer_local_code": "T",
    "last_name": "B",
    "first_name": "B",
    "address_line_1": "Z",
    "address_line_2": "Z",
    "city": "Z",
    "addr_state": "Z",
    "zip": "Z",
}
REGISTRY = {
    "state": pl.Utf8,
    "ssn": pl.Utf8,
    "case_type": pl.Utf8,
    "case_id": pl.Utf8,
    "local_code": pl.Utf8,
    "last_name": pl.Utf8,
    "first_name": pl.Utf8,
    "arrearage": pl.Int64,
    "exclusions": pl.Utf8,
    "address_line_1": pl.Utf8,
    "address_line_2": pl.Utf8,
    "city": pl.Utf8,
    "addr_state": pl.Utf8,
    "zip": pl.Utf8,
    "transfer_state": pl.Utf8,
    "transfer_local_code": pl.Utf8,
    "process_year": pl.Utf8,
    "status": pl.Utf8,
    "added_cycle": pl.Utf8,
    "changed_cycle": pl.Utf8,
    "deleted_cycle": pl.Utf8,
    "source_file_id": pl.Int32,
    "source_line": pl.Int64,
}


@dataclass
class OffsetResult:
    records: int = 0
    accepted: int = 0
    rejected: int = 0
    layout_rejected: int = 0
    rounds: int = 0
    by_code: dict[str, int] = field(default_factory=dict)


def _input(con: duckdb.DuckDBPyConnection, cycle: str) -> pl.DataFrame:
    inp = frame(
        con,
        """SELECT * EXCLUDE (state), state AS addr_state FROM offset_input WHERE cycle_id = ?
        ORDER BY file_id, line_no""",
        [cycle],
    )
    return inp.rename({"submitting_state": "state"}).with_columns(pl.col("file_id").cast(pl.Int32))


def static_codes(inp: pl.DataFrame, master: pl.DataFrame) -> pl.DataFrame:
    """Add `codes` (sorted list of reject codes needing no registry state) and `master_last4`."""
    t = pl.col("transaction_type")
    df = inp.join(master, on="ssn", how="left").with_columns(
        pl.int_range(pl.len()).over([*KEY, "transaction_type"]).alias("_dup")
    )
    checks = [
        ("01", pl.col("state") != pl.col("submitter")),
        ("04", t.is_in(["A", "B"]) & pl.col("first_name").is_null()),
        ("05", (t.is_in(["A", "M"]) & pl.col("arrearage").is_null()) | ((t == "A") & (pl.col("arrearage") == 0))),
        ("08", pl.col("_dup") > 0),
        ("12", (t == "A") & pl.col("m_last").is_null() & ~is_itin_expr("ssn")),
        (
            "17",
            t.is_in(["A", "B"])
            & pl.col("m_last").is_not_null()
            & (key4(pl.col("last_name")) != key4(pl.col("m_last"))),
        ),
        (
            "23",
            (t == "T")
            & (
                pl.col("transfer_state").is_null()
                | (pl.col("transfer_state") == pl.col("state"))
                | ~pl.col("transfer_state").is_in(list(STATE_FIPS))
            ),
        ),
        ("29", (t == "L") & pl.col("local_code").is_null()),
        (NO_CASE_ID, (t == "C") & pl.col("case_id").is_null()),
    ]
    codes = pl.concat_list([pl.when(cond.fill_null(False)).then(pl.lit(code)) for code, cond in checks])
    return df.with_columns(
        codes.list.drop_nulls().alias("codes"),
        pl.when(pl.col("m_last").is_not_null()).then(key4(pl.col("m_last"))).alias("master_last4"),
    ).drop("_dup", "m_last")


def _registry_codes(reg: pl.DataFrame, batch: pl.DataFrame) -> pl.DataFrame:
    k = reg.select(*KEY, pl.col("status").alias("r_status"), pl.col("arrearage").alias("r_arrears"))
    person = reg.group_by(PERSON).agg((pl.col("status") == "active").sum().alias("p_active"), pl.len().alias("p_any"))
    b = batch.join(k, on=KEY, how="left").join(person, on=PERSON, how="left")
    t, st = pl.col("transaction_type"), pl.col("r_status")
    by_person = t.is_in(["B", "Z"])
    code = (
        pl.when((t == "A") & (st == "active"))
        .then(pl.lit("06"))
        .when(by_person & pl.col("p_any").is_null())
        .then(pl.lit(NOT_ON_REGISTRY))
        .when(by_person & (pl.col("p_active") == 0))
        .then(pl.lit("38"))
        .when(~by_person & (t != "A") & st.is_null())
        .then(pl.lit(NOT_ON_REGISTRY))
        .when(~by_person & (t != "A") & (st == "deleted"))
        .then(pl.lit("38"))
        .when((t == "M") & (pl.col("r_arrears") == 0) & (pl.col("arrearage") == 0))
        .then(pl.lit("19"))
    )
    return b.with_columns(code.alias("code")).drop("r_status", "r_arrears", "p_active", "p_any")


def _apply(reg: pl.DataFrame, ok: pl.DataFrame, cycle: str) -> pl.DataFrame:
    """Apply one round of accepted transactions (at most one per person) to the registry frame."""
    t = pl.col("transaction_type")
    upd = ok.filter(t != "A").select(
        *PERSON, *[pl.col(c).alias(f"u_{c}") for c in ("transaction_type", "case_type", *SETS)]
    )
    r = reg.join(upd, on=PERSON, how="left")
    ut = pl.col("u_transaction_type")
    by_person = ut.is_in(["B", "Z"])
    hit = (
        (by_person & (pl.col("status") == "active")) | (~by_person & (pl.col("case_type") == pl.col("u_case_type")))
    ).fill_null(False)
    exprs = []
    for col, txns in SETS.items():
        new = pl.col(f"u_{col}")
        if "U" in txns:
            new = pl.when(ut == "U").then(pl.coalesce(new, pl.col(col))).otherwise(new)
        exprs.append(pl.when(hit & ut.is_in(list(txns))).then(new).otherwise(pl.col(col)).alias(col))
    exprs += [
        pl.when(hit & (ut == "D")).then(pl.lit("deleted")).otherwise(pl.col("status")).alias("status"),
        pl.when(hit & (ut == "D")).then(pl.lit(cycle)).otherwise(pl.col("deleted_cycle")).alias("deleted_cycle"),
        pl.when(hit).then(pl.lit(cycle)).otherwise(pl.col("changed_cycle")).alias("changed_cycle"),
    ]
    reg = r.with_columns(exprs).select(list(REGISTRY))
    adds = ok.filter(t == "A").select(
        *[pl.col(c) for c in REGISTRY if c in ok.columns and c not in ("status", "source_file_id", "source_line")],
        pl.lit("active").alias("status"),
        pl.lit(cycle).alias("added_cycle"),
        pl.lit(cycle).alias("changed_cycle"),
        pl.lit(None, pl.Utf8).alias("deleted_cycle"),
        pl.col("file_id").alias("source_file_id"),
        pl.col("line_no").alias("source_line"),
    )
    adds = adds.select(
        [pl.col(c).cast(d) if c in adds.columns else pl.lit(None, d).alias(c) for c, d in REGISTRY.items()]
    )
    return pl.concat([reg.join(adds.select(KEY), on=KEY, how="anti"), adds])


def apply_rounds(reg: pl.DataFrame, todo: pl.DataFrame, cycle: str) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Apply transactions in rounds by rank within person → (registry, todo + `code` + `round`, rounds)."""
    todo = todo.with_columns(pl.int_range(pl.len()).over(PERSON).alias("round"))
    done, rounds = [], int(todo["round"].max()) + 1 if todo.height else 0
    for k in range(rounds):
        batch = _registry_codes(reg, todo.filter(pl.col("round") == k))
        reg = _apply(reg, batch.filter(pl.col("code").is_null()), cycle)
        done.append(batch)
    out = pl.concat(done) if done else todo.with_columns(pl.lit(None, pl.Utf8).alias("code"))
    return reg, out, rounds


def _layout_rejects(con: duckdb.DuckDBPyConnection, cycle: str) -> pl.DataFrame:
    rows = frame(
        con,
        """SELECT r.file_id, r.line, r.field, l.submitter FROM rejects r JOIN file_ledger l USING (file_id)
        WHERE l.cycle_id = ? AND l.layout = 'offset_debtor' AND l.status = 'loaded' AND r.line > 0 AND r.severity = 'E'""",
        [cycle],
    )
    codes = rows.with_columns(pl.col("field").replace_strict(FIELD_CODES, default=UNREADABLE).alias("code"))
    return codes.group_by("file_id", "line", "submitter").agg(pl.col("code").unique().sort().head(6).alias("codes"))


def run_offset(con: duckdb.DuckDBPyConnection, cycle: str) -> OffsetResult:
    """Process the cycle's offset records against the registry; write `debtors` and `offset_results`
    (the caller owns the transaction)."""
    inp = _input(con, cycle)
    master = frame(
        con,
        """SELECT ssn, last_name AS m_last FROM ssa_current
        WHERE ssn IN (SELECT ssn FROM offset_input WHERE cycle_id = ?)""",
        [cycle],
    )
    checked = static_codes(inp, master)
    reg = frame(
        con,
        """SELECT * FROM debtors d WHERE EXISTS (SELECT 1 FROM offset_input i WHERE i.cycle_id = ?
        AND i.submitting_state = d.state AND i.ssn = d.ssn)""",
        [cycle],
    )
    reg = reg.select([pl.col(c).cast(d) for c, d in REGISTRY.items()]) if reg.height else pl.DataFrame(schema=REGISTRY)
    todo = checked.filter(pl.col("codes").list.len() == 0)
    reg, applied, rounds = apply_rounds(reg, todo, cycle)
    con.execute(
        """DELETE FROM debtors d WHERE EXISTS (SELECT 1 FROM offset_input i WHERE i.cycle_id = ?
        AND i.submitting_state = d.state AND i.ssn = d.ssn)""",
        [cycle],
    )
    insert_frame(con, "debtors", reg)
    results = _results(checked, applied, cycle)
    insert_frame(con, "offset_results", results)
    layout = _layout_rejects(con, cycle)
    by_code: dict[str, int] = {}
    for codes in results.filter(pl.col("status") == "rejected")["error_codes"].to_list() + layout["codes"].to_list():
        for c in codes:
            by_code[c] = by_code.get(c, 0) + 1
    acc = int((results["status"] == "accepted").sum())
    return OffsetResult(
        results.height + layout.height,
        acc,
        results.height - acc + layout.height,
        layout.height,
        rounds,
        dict(sorted(by_code.items())),
    )


def _results(checked: pl.DataFrame, applied: pl.DataFrame, cycle: str) -> pl.DataFrame:
    static = checked.filter(pl.col("codes").list.len() > 0).with_columns(pl.lit(None, pl.Int64).alias("round"))
    reg = applied.with_columns(
        pl.when(pl.col("code").is_not_null())
        .then(pl.concat_list(pl.col("code")))
        .otherwise(pl.lit([], pl.List(pl.Utf8)))
        .alias("codes")
    )
    both = pl.concat(
        [static.select("file_id", "line_no", "codes", "round"), reg.select("file_id", "line_no", "codes", "round")]
    )
    out = checked.drop("codes").join(both, on=["file_id", "line_no"], how="left")
    evidence = pl.format(
        '{{"rule":"offset_transaction","transaction":"{}","round":{},"codes":"{}"}}',
        pl.col("transaction_type"),
        pl.col("round").fill_null(-1),
        pl.col("codes").list.join(","),
    )
    return out.select(
        pl.lit(cycle).alias("cycle_id"),
        "file_id",
        "line_no",
        "submitter",
        pl.col("state").alias("submitting_state"),
        "ssn",
        "case_type",
        "transaction_type",
        pl.when(pl.col("codes").list.len() == 0).then(pl.lit("accepted")).otherwise(pl.lit("rejected")).alias("status"),
        pl.col("codes").list.sort().list.head(6).alias("error_codes"),
        pl.when(pl.col("codes").list.contains("17")).then(pl.col("master_last4")).alias("master_last4"),
        evidence.alias("evidence"),
    ).sort("file_id", "line_no")


def reject_blocks(con: duckdb.DuckDBPyConnection, cycle: str, as_of, state: str) -> list[tuple[str, pl.DataFrame]]:
    """The state's offset reject file: reject-control record + rejected case records (file, line order)."""
    biz = frame(
        con,
        """SELECT r.file_id, r.line_no AS source_line, i.submitting_state, i.local_code, i.ssn, i.case_id,
            i.last_name, i.first_name, i.arrearage, i.transaction_type, i.case_type, i.transfer_state,
            i.transfer_local_code, i.process_year, i.exclusions, r.error_codes, r.master_last4, l.file_name AS source_file
        FROM offset_results r JOIN offset_input i USING (cycle_id, file_id, line_no) JOIN file_ledger l USING (file_id)
        WHERE r.cycle_id = ? AND r.submitter = ? AND r.status = 'rejected'""",
        [cycle, state],
    )
    lay = _layout_rejects(con, cycle).filter(pl.col("submitter") == state)
    names = frame(con, "SELECT file_id, file_name AS source_file FROM file_ledger WHERE cycle_id = ?", [cycle])
    lay = lay.join(names.with_columns(pl.col("file_id").cast(lay.schema["file_id"])), on="file_id", how="left").select(
        "file_id",
        pl.col("line").alias("source_line"),
        pl.lit(state).alias("submitting_state"),
        pl.col("codes").alias("error_codes"),
        "source_file",
    )
    rej = pl.concat([biz, lay], how="diagonal_relaxed").sort("file_id", "source_line")
    rej = rej.with_columns(
        *[pl.col("error_codes").list.get(i, null_on_oob=True).alias(f"error_code_{i + 1}") for i in range(6)],
        pl.lit(cycle).alias("cycle_id"),
    )
    counts = con.execute(
        """SELECT count(*) FILTER (WHERE case_type = 'A' AND status = 'accepted'),
            count(*) FILTER (WHERE case_type = 'A' AND status = 'rejected'),
            count(*) FILTER (WHERE case_type <> 'A' AND status = 'accepted'),
            count(*) FILTER (WHERE case_type <> 'A' AND status = 'rejected')
        FROM offset_results WHERE cycle_id = ? AND submitter = ?""",
        [cycle, state],
    ).fetchone()
    ctl = pl.DataFrame(
        {
            "submitting_state": [state],
            "tanf_accepted": [counts[0]],
            "tanf_rejected": [counts[1]],
            "non_tanf_accepted": [counts[2]],
            "non_tanf_rejected": [counts[3]],
            "tanf_warnings": [0],
            "non_tanf_warnings": [0],
            "unclassified_rejected": [lay.height],
            "date_stamp": [as_of],
            "cycle_id": [cycle],
        }
    )
    return [("CTL", ctl), ("REJ", rej.drop("error_codes", "file_id"))]


def offset_states(con: duckdb.DuckDBPyConnection, cycle: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            """SELECT DISTINCT submitter FROM file_ledger WHERE cycle_id = ?
        AND layout = 'offset_debtor' AND status = 'loaded' ORDER BY 1""",
            [cycle],
        ).fetchall()
    ]


def describe(result: OffsetResult) -> str:
    return json.dumps(result.__dict__, sort_keys=True)
