"""Structural SSN rules (DESIGN §7 "SSN rules", reference/ocse-layouts.md §6), vectorised over a column.

`ssn_reason_expr` returns a reason code per row instead of a bare boolean so an operator (and an ack
record) can say *why* a number was refused:

| code | meaning |
|---|---|
| `OK` | structurally valid SSN |
| `MISSING` | null or blank |
| `FORMAT` | not exactly nine digits after removing spaces and hyphens |
| `KNOWN_INVALID` | 078-05-1120, 219-09-9999, 987-65-4320 … 987-65-4329 (checked before the ITIN range they fall in) |
| `AREA_000` / `AREA_666` | never-issued area |
| `ITIN` | 9xx with digits 4-5 in 50-65, 70-88, 90-92, 94-99 (a taxpayer id, not an SSN) |
| `AREA_9XX` | any other 9xx area (never issued as an SSN) |
| `GROUP_00` / `SERIAL_0000` | never-issued group / serial |
| `UNISSUED_PRE_2011` | area 734-749 or 772-899 with a known issue date before 2011-06-25 |

`UNISSUED_PRE_2011` is only produced when the caller passes an issue-date column: since
randomisation (2011-06-25) those areas are issued, and an SSN without a known issue date cannot be
refused for its area alone.

The order of the checks is the order of the table: the first rule that fails names the reason.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

RANDOMISATION_DATE = date(2011, 6, 25)
KNOWN_INVALID = ("078051120", "219099999", *(f"98765432{d}" for d in range(10)))
ITIN_GROUP_RANGES = ((50, 65), (70, 88), (90, 92), (94, 99))
PRE_2011_UNISSUED_AREAS = ((734, 749), (772, 899))

VALID = "OK"
REASONS = (
    VALID,
    "MISSING",
    "FORMAT",
    "AREA_000",
    "AREA_666",
    "ITIN",
    "AREA_9XX",
    "GROUP_00",
    "SERIAL_0000",
    "KNOWN_INVALID",
    "UNISSUED_PRE_2011",
)


def clean_ssn_expr(column: str | pl.Expr) -> pl.Expr:
    """Strip spaces and hyphens; blank becomes null. Does not validate."""
    col = pl.col(column) if isinstance(column, str) else column
    text = col.cast(pl.Utf8).str.replace_all(r"[\s\-]", "")
    return pl.when(text == "").then(None).otherwise(text)


# Characters an OCR pass (or a typist) puts where a digit belongs, and the digit they stand for.
OCR_DIGITS = {
    "O": "0",
    "o": "0",
    "Q": "0",
    "D": "0",
    "I": "1",
    "i": "1",
    "l": "1",
    "L": "1",
    "|": "1",
    "!": "1",
    "Z": "2",
    "z": "2",
    "S": "5",
    "s": "5",
    "G": "6",
    "b": "6",
    "B": "8",
    "g": "9",
    "q": "9",
}


def repair_ocr_expr(ssn: pl.Expr) -> pl.Expr:
    """Nine characters of digits and look-alike letters (`09O614932`, `56OO94782`) read as the digits they
    stand for; anything else is left as it is (and stays FORMAT)."""
    looks_like = ssn.str.contains("^[0-9" + "".join(OCR_DIGITS).replace("|", "\\|") + "]{9}$")
    return pl.when(looks_like).then(ssn.str.replace_many(OCR_DIGITS)).otherwise(ssn)


def _between(expr: pl.Expr, ranges: tuple[tuple[int, int], ...]) -> pl.Expr:
    out = pl.lit(False)
    for low, high in ranges:
        out = out | expr.is_between(low, high)
    return out


def ssn_reason_expr(column: str | pl.Expr, issued_on: str | pl.Expr | None = None) -> pl.Expr:
    """Reason code (see module doc) for each value of an SSN column; `OK` when structurally valid."""
    ssn = clean_ssn_expr(column)
    nine_digits = ssn.str.contains(r"^\d{9}$")
    area = ssn.str.slice(0, 3).cast(pl.Int32, strict=False)
    group = ssn.str.slice(3, 2).cast(pl.Int32, strict=False)
    serial = ssn.str.slice(5, 4).cast(pl.Int32, strict=False)
    expr = (
        pl.when(ssn.is_null())
        .then(pl.lit("MISSING"))
        .when(~nine_digits)
        .then(pl.lit("FORMAT"))
        .when(ssn.is_in(list(KNOWN_INVALID)))
        .then(pl.lit("KNOWN_INVALID"))
        .when(area == 0)
        .then(pl.lit("AREA_000"))
        .when(area == 666)
        .then(pl.lit("AREA_666"))
        .when((area >= 900) & _between(group, ITIN_GROUP_RANGES))
        .then(pl.lit("ITIN"))
        .when(area >= 900)
        .then(pl.lit("AREA_9XX"))
        .when(group == 0)
        .then(pl.lit("GROUP_00"))
        .when(serial == 0)
        .then(pl.lit("SERIAL_0000"))
    )
    if issued_on is not None:
        issued = pl.col(issued_on) if isinstance(issued_on, str) else issued_on
        expr = expr.when(_between(area, PRE_2011_UNISSUED_AREAS) & (issued < pl.lit(RANDOMISATION_DATE))).then(
            pl.lit("UNISSUED_PRE_2011")
        )
    return expr.otherwise(pl.lit(VALID))


def is_valid_ssn_expr(column: str | pl.Expr, issued_on: str | pl.Expr | None = None) -> pl.Expr:
    """True where the SSN is structurally valid."""
    return ssn_reason_expr(column, issued_on) == VALID


def is_itin_expr(column: str | pl.Expr) -> pl.Expr:
    """True where the value is in the ITIN ranges (accepted in an SSN field by the offset program)."""
    return ssn_reason_expr(column) == "ITIN"


def ssn_variants(frame: pl.DataFrame, key: str, ssn: str) -> pl.DataFrame:
    """Every SSN one substituted digit (81) or one adjacent transposition (≤8) away from `ssn`.

    Returns columns `key`, `variant`, `edit` (`one_digit` | `transposition`); the original is excluded.
    Rows whose SSN is not nine digits produce nothing.
    """
    base = frame.select(pl.col(key), pl.col(ssn).alias("_s")).filter(pl.col("_s").str.contains(r"^\d{9}$"))
    # integer arithmetic in numpy, rows in the order of (record, position, digit): no per-expression overhead
    n = base["_s"].cast(pl.Int64).to_numpy()
    power = 10 ** np.arange(8, -1, -1, dtype=np.int64)
    digits = (n[:, None] // power) % 10
    edits = (
        ("one_digit", (n[:, None, None] + (np.arange(10)[None, None, :] - digits[:, :, None]) * power[None, :, None])),
        ("transposition", n[:, None] + (digits[:, 1:] - digits[:, :-1]) * (power[:-1] - power[1:])),
    )
    parts = []
    for edit, values in edits:
        values = values.reshape(len(n), -1 if len(n) else (90 if edit == "one_digit" else 8))
        keep = values != n[:, None]
        rows = np.broadcast_to(np.arange(len(n))[:, None], values.shape)[keep]
        parts.append(
            pl.DataFrame(
                {
                    key: base[key].gather(rows),
                    "variant": pl.Series(values[keep], dtype=pl.Int64).cast(pl.Utf8).str.zfill(9),
                    "edit": pl.Series([edit], dtype=pl.Utf8).gather(np.zeros(len(rows), dtype=np.int64)),
                }
            )
        )
    out = pl.concat(parts)
    if base[key].is_duplicated().any():  # one key twice: its variants once (distinct within one SSN otherwise)
        out = out.unique(subset=[key, "variant"], keep="first", maintain_order=True)
    return out
