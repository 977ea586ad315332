"""Person-schema frames (DESIGN §6): reading, per-row checks and the normalised columns every matcher uses.

Per-row handling of bad input (never an exception):

| issue | handling |
|---|---|
| `NO_ID` | blank id: the row is dropped and reported |
| `DUPLICATE_ID` | the first row with an id is kept, later rows with the same id are dropped and reported |
| `ALL_BLANK` | every column but id blank: dropped and reported (nothing to match on) |
| `NO_NAME` | first and last name both blank: kept (an SSN or DOB can still match), reported |
| `BAD_DOB` | dob neither `YYYY-MM-DD` nor `YYYYMMDD` nor a real date: dob treated as missing, reported (a date that is
  only real with day and month swapped, `1961-26-11`, is read as such) |
| `BAD_SSN` | SSN not nine digits / never issued (see `matchers.ssn`): kept for verification, not used as a key |
| `OCR_SSN` | nine digits and look-alike letters (`O`→0, `I`/`l`→1, `S`→5 …): the repaired SSN is the key |
| `NON_ASCII` | a name with non-ASCII letters: folded to ASCII (José → JOSE), reported as information |

Dropping duplicates rather than refusing the file keeps a nightly batch moving; the issues frame names
each dropped line so the operator can resubmit it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from matchers.names import normal_name_expr, normalise_names, per_distinct_value
from matchers.ssn import clean_ssn_expr, repair_ocr_expr, ssn_reason_expr

PERSON_COLUMNS = ("id", "ssn", "first_name", "middle_name", "last_name", "dob", "sex", "street", "city", "state", "zip")
DATA_COLUMNS = PERSON_COLUMNS[1:]


class PersonFileError(ValueError):
    """The file cannot be read as a person-schema CSV (missing header columns, not CSV)."""


def read_person_csv(path: str | Path) -> pl.DataFrame:
    """Read a person-schema CSV with every column as text. Extra columns are kept."""
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.NoDataError:
        frame = pl.DataFrame(schema={c: pl.Utf8 for c in PERSON_COLUMNS})
    except (pl.exceptions.ComputeError, pl.exceptions.ShapeError) as exc:
        raise PersonFileError(f"{path}: not a readable CSV ({type(exc).__name__})") from None
    missing = [c for c in PERSON_COLUMNS if c not in frame.columns]
    if missing:
        raise PersonFileError(f"{path}: header lacks column(s) {', '.join(missing)}")
    return frame


def _blank(column: str) -> pl.Expr:
    return pl.col(column).is_null() | (pl.col(column).cast(pl.Utf8).str.strip_chars() == "")


def parse_dob_expr(column: str = "dob") -> pl.Expr:
    """`YYYY-MM-DD` or `YYYYMMDD` → pl.Date; a date that is only real with day and month swapped (month
    over 12: `1961-26-11`) is read swapped, as clerks and OCR swap them; anything else → null."""
    text = pl.col(column).cast(pl.Utf8).str.strip_chars()
    return pl.coalesce(
        text.str.to_date("%Y-%m-%d", strict=False),
        text.str.to_date("%Y%m%d", strict=False),
        text.str.to_date("%Y-%d-%m", strict=False),
        text.str.to_date("%Y%d%m", strict=False),
    )


def _repaired_ssn() -> pl.Expr:
    return repair_ocr_expr(clean_ssn_expr("ssn"))


def check_persons(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a raw person frame into (kept rows, issues). Issues: line, id, issue."""
    raw = frame.with_row_index("line", offset=2).with_columns(
        pl.col(c).cast(pl.Utf8) for c in PERSON_COLUMNS if frame.schema.get(c) != pl.Date
    )
    # Materialised once: the reason's many branches would each clean the SSN again.
    raw = raw.with_columns(_ssn_fixed=_repaired_ssn())
    raw = raw.with_columns(
        _no_id=_blank("id"),
        _all_blank=pl.all_horizontal([_blank(c) for c in DATA_COLUMNS]),
        _dup=pl.col("id").is_duplicated() & ~pl.col("id").is_first_distinct(),
        _no_name=_blank("first_name") & _blank("last_name"),
        _bad_dob=~_blank("dob")
        & (parse_dob_expr("dob").is_null() if frame.schema.get("dob") != pl.Date else pl.lit(False)),
        _bad_ssn=~_blank("ssn") & (ssn_reason_expr("_ssn_fixed") != "OK"),
        _ocr_ssn=~_blank("ssn") & (pl.col("_ssn_fixed") != clean_ssn_expr("ssn")),
        _non_ascii=pl.any_horizontal(
            pl.col(c).cast(pl.Utf8).str.contains(r"[^\x00-\x7F]").fill_null(False)
            for c in ("first_name", "middle_name", "last_name")
        ),
    )
    flags = {
        "_no_id": "NO_ID",
        "_dup": "DUPLICATE_ID",
        "_all_blank": "ALL_BLANK",
        "_no_name": "NO_NAME",
        "_bad_dob": "BAD_DOB",
        "_bad_ssn": "BAD_SSN",
        "_ocr_ssn": "OCR_SSN",
        "_non_ascii": "NON_ASCII",
    }
    issues = pl.concat(
        [raw.filter(pl.col(f)).select("line", "id", pl.lit(code).alias("issue")) for f, code in flags.items()]
    ).sort("line")
    kept = raw.filter(~pl.col("_no_id") & ~pl.col("_dup") & ~pl.col("_all_blank"))
    return kept.drop([*flags, "line", "_ssn_fixed"]), issues


def prepare_persons(frame: pl.DataFrame) -> pl.DataFrame:
    """Normalised matching columns for checked person rows (see module `matchers.names`).

    Adds ssn9 (nine digits or null, structurally valid only), ssn_int, ssn_reason, dob_date, dob_int
    (YYYYMMDD), birth_year, sex1 (M/F or null), zip5,
    zip3, city_n, street_n, street_no plus the name columns of `normalise_names`."""
    dob = pl.col("dob") if frame.schema.get("dob") == pl.Date else parse_dob_expr("dob")
    frame = frame.with_columns(_ssn_fixed=_repaired_ssn())  # once: see check_persons
    ssn = pl.col("_ssn_fixed")
    out = frame.with_columns(
        pl.when(ssn.str.contains(r"^\d{9}$")).then(ssn).alias("ssn9"),
        ssn_reason_expr(ssn).alias("ssn_reason"),
        dob.alias("dob_date"),
        pl.col("sex").cast(pl.Utf8).str.strip_chars().str.to_uppercase().str.slice(0, 1).alias("_sex"),
        # A 3-4 digit ZIP lost its leading zeros in a spreadsheet (2134 → 02134).
        pl.col("zip")
        .cast(pl.Utf8)
        .str.replace_all(r"\D", "")
        .pipe(lambda z: pl.when(z.str.len_chars().is_between(3, 4)).then(z.str.zfill(5)).otherwise(z))
        .alias("_zip"),
        pl.col("street")
        .cast(pl.Utf8)
        .str.to_uppercase()
        .str.replace_all(r"[^A-Z0-9 ]", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .alias("_street"),
    )
    out = (
        out.with_columns(
            # Structurally invalid SSNs are not keys: two records both carrying 000-00-0000 are no evidence.
            pl.when(pl.col("ssn_reason") == "OK").then(pl.col("ssn9")).alias("ssn9"),
            pl.col("dob_date").dt.year().alias("birth_year"),
            (
                pl.col("dob_date").dt.year().cast(pl.Int32) * 10000
                + pl.col("dob_date").dt.month().cast(pl.Int32) * 100
                + pl.col("dob_date").dt.day().cast(pl.Int32)
            ).alias("dob_int"),
            pl.when(pl.col("_sex").is_in(["M", "F"])).then(pl.col("_sex")).alias("sex1"),
            pl.when(pl.col("_zip").str.len_chars() >= 5).then(pl.col("_zip").str.slice(0, 5)).alias("zip5"),
            pl.when(pl.col("_zip").str.len_chars() >= 5).then(pl.col("_zip").str.slice(0, 3)).alias("zip3"),
            pl.when(pl.col("_street") != "").then(pl.col("_street")).alias("street_n"),
            pl.col("_street").str.extract(r"^(\d+)").alias("street_no"),
        )
        .drop("_sex", "_zip", "_street", "_ssn_fixed")
        .with_columns(pl.col("ssn9").cast(pl.Int64).alias("ssn_int"))
    )
    out = per_distinct_value(out, "city", {"city_n": normal_name_expr("v")})
    return normalise_names(out)
