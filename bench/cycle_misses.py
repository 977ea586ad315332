"""Why ndnh_locate misses pairs: one primary cause per missed truth pair, from the generator's corruption tags.

python -m bench.cycle_misses /tmp/big      (after `fpls run`; prints counts only, never an SSN)
"""

import sys

import duckdb
import polars as pl

from pipeline.evaluation.truth import read_truth, with_person

home = sys.argv[1]
con = duckdb.connect(f"{home}/fpls.duckdb", read_only=True)
raw = pl.read_parquet(f"{home}/truth.parquet").select(
    pl.col("file").alias("file_name"), pl.col("line").alias("line_no"), "corruptions"
)
truth = read_truth(f"{home}/truth.parquet")
cycle = con.execute("SELECT max(cycle_id) FROM cycles").fetchone()[0]
rec = with_person(
    con,
    "SELECT n.ndnh_id, n.source, n.verified_ssn, n.ssn, n.dob, l.file_name, n.line_no FROM ndnh n JOIN file_ledger l USING (file_id) WHERE n.cycle_id = ?",
    [cycle],
    truth,
).join(raw, on=["file_name", "line_no"], how="left")
per = with_person(
    con,
    """SELECT DISTINCT p.state, p.member_id, p.verified_ssn, p.validity_code, p.ssn, p.dob, l.file_name, i.line_no
    FROM fcr_persons p JOIN fcr_person_input i USING (state, case_id, member_id) JOIN file_ledger l ON l.file_id = i.file_id
    WHERE p.status = 'active' AND i.action_type = 'A'""",
    [],
    truth,
).join(raw, on=["file_name", "line_no"], how="left")
per = per.unique(["state", "member_id"], keep="first")
onmaster = con.execute("SELECT ssn FROM ssa_master").pl().with_columns(pl.lit(True).alias("on_master"))
per = per.join(onmaster, on="ssn", how="left")
pairs = per.filter(pl.col("person_id").is_not_null()).join(
    rec.filter(pl.col("person_id").is_not_null()), on="person_id", suffix="_n"
)
pairs = pairs.with_columns(hit=(pl.col("verified_ssn") == pl.col("verified_ssn_n")).fill_null(False))
miss = pairs.filter(~pl.col("hit"))


def has(col: str, t: str) -> pl.Expr:
    return pl.col(col).list.contains(t).fill_null(False)


def anyp(col: str, t: str) -> pl.Expr:
    return pl.col(col).list.eval(pl.element().str.starts_with(t)).list.any().fill_null(False)


src = pl.col("source")
cause = (
    pl.when(pl.col("verified_ssn").is_null() & (pl.col("validity_code") == "R"))
    .then(pl.lit("FCR person: several SSA candidates (R)"))
    .when(pl.col("verified_ssn").is_null() & has("corruptions", "ssn_missing") & has("corruptions", "dob_missing"))
    .then(pl.lit("FCR person: no SSN and no DOB"))
    .when(pl.col("verified_ssn").is_null() & has("corruptions", "ssn_missing"))
    .then(pl.lit("FCR person: no SSN, name+DOB search found nobody"))
    .when(pl.col("verified_ssn").is_null() & pl.col("on_master").is_null() & (pl.col("corruptions").list.len() == 0))
    .then(pl.lit("FCR person: true SSN not on the loaded SSA master"))
    .when(pl.col("verified_ssn").is_null())
    .then(pl.lit("FCR person: other (name/DOB/SSN noise beyond tolerance)"))
    .when(pl.col("verified_ssn_n").is_not_null())
    .then(pl.lit("both verified to different SSNs (person's other SSN)"))
    .when(src.is_in(["H98", "H97"]) & (has("corruptions_n", "ssn_one_digit") | has("corruptions_n", "ssn_transposed")))
    .then(
        pl.format(
            "{}: SSN one digit / transposed, not corrected ({})",
            src,
            pl.when(src == "H98").then(pl.lit("QW never corrected")).otherwise(pl.lit("UI has no DOB")),
        )
    )
    .when(
        (src == "H99")
        & (has("corruptions_n", "ssn_one_digit") | has("corruptions_n", "ssn_transposed"))
        & pl.col("dob_n").is_null()
    )
    .then(pl.lit("H99: SSN one digit / transposed, no DOB to correct with"))
    .when(has("corruptions_n", "ssn_other_person"))
    .then(pl.format("{}: someone else's SSN", src))
    .when(has("corruptions_n", "ssn_invalid"))
    .then(pl.format("{}: structurally invalid SSN", src))
    .when(anyp("corruptions_n", "ssn"))
    .then(pl.format("{}: other SSN error", src))
    .when(has("corruptions_n", "birth_surname"))
    .then(pl.format("{}: birth surname unknown to SSA and to the state", src))
    .when(anyp("corruptions_n", "typo") | has("corruptions_n", "swap_names") | has("corruptions_n", "nickname"))
    .then(pl.format("{}: name typo / swap / nickname beyond tolerance", src))
    .otherwise(pl.format("{}: current surname unknown to SSA (not updated) and to the state", src))
)
miss = miss.with_columns(cause.alias("cause"))
pl.Config.set_tbl_rows(60)
pl.Config.set_fmt_str_lengths(90)
pl.Config.set_tbl_width_chars(160)
print("truth pairs", pairs.height, "found", pairs.filter("hit").height, "missed", miss.height)
print(
    miss.group_by("cause")
    .agg(
        pl.len().alias("pairs"),
        pl.col("ndnh_id").n_unique().alias("ndnh_records"),
        (pl.col("state") + pl.col("member_id")).n_unique().alias("fcr_persons"),
    )
    .sort("pairs", descending=True)
)
