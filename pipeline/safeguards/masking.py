"""The one place that decides how personal identifiers appear outside the store.

Every log line, error row, CLI output, report and exception message that shows an SSN goes through
`mask_ssn` (one value) or `mask_ssn_expr` (a polars column), so there is a single rule to audit.
"""

from __future__ import annotations

import re

import polars as pl

MASK_PREFIX = "***-**-"
_NINE_DIGITS = re.compile(r"(?<!\d)(\d{3})-?(\d{2})-?(\d{4})(?!\d)")


def mask_ssn(value: object) -> str:
    """`123456789` → `***-**-6789`; anything shorter than four characters is fully masked."""
    if value is None:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    return MASK_PREFIX + text[-4:] if len(text) >= 4 else "*" * len(text)


def mask_ssn_expr(column: str | pl.Expr) -> pl.Expr:
    """Vectorised `mask_ssn` for a polars string column (nulls and blanks stay empty)."""
    col = pl.col(column) if isinstance(column, str) else column
    text = col.cast(pl.Utf8).str.strip_chars()
    return (
        pl.when(text.is_null() | (text == ""))
        .then(pl.lit(""))
        .when(text.str.len_chars() < 4)
        .then(pl.lit("****"))
        .otherwise(pl.lit(MASK_PREFIX) + text.str.slice(-4))
    )


def scrub_text(text: str) -> str:
    """Mask anything shaped like an SSN inside free text (exception messages, reasons)."""
    return _NINE_DIGITS.sub(lambda m: MASK_PREFIX + m.group(3), text)
