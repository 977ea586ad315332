"""The one place that decides how personal identifiers appear outside the store.

Every log line, error row, CLI output, report and exception message that shows an SSN goes through
`mask_ssn` (one value) or `mask_ssn_expr` (a polars column, the same rule), so there is a single rule to audit.
Polars is imported only by `mask_ssn_expr` (an operator's query needs none of it).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

MASK_PREFIX = "***-**-"
SHORT_MASK = "****"  # anything shorter than four characters, whatever its length
# Nine digits, alone or as ddd-dd-dddd; not a partner id's FEIN or TIN (EMP-123456789, FI-…, INS-…), which
# names an employer or institution, not a person.
_NINE_DIGITS = re.compile(r"(?<!\d)(?<!EMP-)(?<!FI-)(?<!INS-)(\d{3})-?(\d{2})-?(\d{4})(?!\d)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def mask_ssn(value: object) -> str:
    """`123456789` → `***-**-6789`; anything shorter than four characters is fully masked (`****`); None and
    blanks are empty."""
    if value is None:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    return MASK_PREFIX + text[-4:] if len(text) >= 4 else SHORT_MASK


def mask_ssn_expr(column: str | pl.Expr) -> pl.Expr:
    """Vectorised `mask_ssn` for a polars string column (nulls and blanks stay empty)."""
    import polars as pl

    col = pl.col(column) if isinstance(column, str) else column
    text = col.cast(pl.Utf8).str.strip_chars()
    return (
        pl.when(text.is_null() | (text == ""))
        .then(pl.lit(""))
        .when(text.str.len_chars() < 4)
        .then(pl.lit(SHORT_MASK))
        .otherwise(pl.lit(MASK_PREFIX) + text.str.slice(-4))
    )


def scrub_text(text: str) -> str:
    """Mask anything shaped like an SSN inside free text (exception messages, reasons)."""
    return _NINE_DIGITS.sub(lambda m: MASK_PREFIX + m.group(3), text)


def printable(text: str) -> str:
    """Control characters (a file name's ESC sequences, say) shown as \\xNN, never sent raw to a terminal;
    newlines and tabs stay."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
