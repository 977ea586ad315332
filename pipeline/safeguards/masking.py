"""The one place that decides how personal identifiers appear outside the store.

Every log line, error row, CLI output, report and exception message that shows an SSN goes through
`mask_ssn` (one value) or `mask_ssn_expr` (a polars column, the same rule), so there is a single rule to audit.
A JSON log line goes through `scrub_json`: SSN-shaped text is masked inside its strings, its numbers stay numbers.
Polars is imported only by `mask_ssn_expr` (an operator's query needs none of it).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

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


def _json_key(key: object) -> str:
    return key if isinstance(key, str) else json.dumps(key)  # the text json.dumps would give a non-str key


def scrub_json(value: Any, key: str = "") -> Any:
    """A JSON-ready copy of `value` for a log line: SSN-shaped text masked in every string (keys included, and
    whatever json.dumps would turn into a string with default=str: dates, paths, exceptions); numbers stay
    numbers, so a nine-digit byte count keeps the line parseable. A number under a key that names an SSN
    (`ssn`, `verified_ssn`, ...) is masked all the same: no full SSN reaches a log in any shape."""
    if isinstance(value, dict):
        return {scrub_text(_json_key(k)): scrub_json(v, _json_key(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_json(v, key) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return mask_ssn(value) if "ssn" in key.lower() else value
    return scrub_text(value if isinstance(value, str) else str(value))


def json_line(row: dict, **dumps: Any) -> str:
    """`row` as JSON text for a log or reason file, through `scrub_json` (keys sorted)."""
    return json.dumps(scrub_json(row), sort_keys=True, **dumps)


def printable(text: str) -> str:
    """Control characters (a file name's ESC sequences, say) shown as \\xNN, never sent raw to a terminal;
    newlines and tabs stay."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
