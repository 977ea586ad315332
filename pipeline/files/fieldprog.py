"""A record layout compiled to flat arrays for the compiled fixed-width scanner (pipeline/files/fixedscan.py,
whose loop is pipeline/files/_scan.c).

Every value check of `pipeline.files.schema.field_rules` is restated here. A field's type becomes a byte
class the scanner tests with plain range compares (which the compiler turns into SIMD): alpha
[A-Z -], alnum (printable, no lower case), digits (numeric, amount, date; a date also needs 8 of them
and a real calendar day). A `pattern` becomes a *program*: a sequence of items (allowed bytes, min
repeat, max repeat), translated from Python's own regex parser when it is a plain sequence of byte
classes in which only the last item varies in length (`^\\d{9}$`, `^[A-Z]{2}$`, `^.{2,}$`,
`^[A-Z]\\d{2}$`). A pattern outside that subset is not guessed at: the field is marked
`needs_polars` and its rows are checked by the polars expression instead.

The compiled checks only ever need to be *at least as strict* as the polars/pandera ones: a row the
scanner is unsure of is handed to the ordinary path, which has the last word.
"""

from __future__ import annotations

import re
import re._parser as sre
from dataclasses import dataclass
from functools import cache

import numpy as np

from pipeline.files.layouts import Layout, Record

UNBOUNDED = 1 << 30
OUT_NONE, OUT_TEXT, OUT_DATE, OUT_AMOUNT = 0, 1, 2, 3
CLASS_ANY, CLASS_ALPHA, CLASS_ALNUM, CLASS_DIGITS = 0, 1, 2, 3
TYPE_CLASS = {
    "alpha": CLASS_ALPHA,
    "alnum": CLASS_ALNUM,
    "numeric": CLASS_DIGITS,
    "amount": CLASS_DIGITS,
    "date": CLASS_DIGITS,
}


def _byte_set(chars: str) -> np.ndarray:
    table = np.zeros(256, dtype=np.bool_)
    table[list(chars.encode())] = True
    return table


PRINTABLE = "".join(map(chr, range(0x20, 0x7F)))
DIGITS = "0123456789"
_CATEGORIES = {sre.CATEGORY_DIGIT: DIGITS, sre.CATEGORY_SPACE: " ", sre.CATEGORY_WORD: None}

Item = tuple[np.ndarray, int, int]


def _class_table(op, av) -> np.ndarray | None:
    """The printable bytes one regex atom accepts (a program never lets any other byte through)."""
    if op is sre.LITERAL:
        return _byte_set(chr(av)) if 0x20 <= av < 0x7F else None
    if op is sre.ANY:
        return _byte_set(PRINTABLE)
    if op is not sre.IN:
        return None
    table, negate = np.zeros(256, dtype=np.bool_), False
    for kind, value in av:
        if kind is sre.NEGATE:
            negate = True
        elif kind is sre.LITERAL:
            table[value] = True
        elif kind is sre.RANGE:
            table[value[0] : value[1] + 1] = True
        elif kind is sre.CATEGORY and _CATEGORIES.get(value):
            table |= _byte_set(_CATEGORIES[value])
        else:
            return None
    return (~table & _byte_set(PRINTABLE)) if negate else (table & _byte_set(PRINTABLE))


def pattern_items(pattern: str) -> list[Item] | None:
    """`^a b{2} c{1,5}$` → [(table, 1, 1), (table, 2, 2), (table, 1, 5)], or None if outside the subset."""
    try:
        parsed = list(sre.parse(pattern))
    except re.error:
        return None
    if not parsed or parsed[0] != (sre.AT, sre.AT_BEGINNING):
        return None
    body, anchored = parsed[1:], bool(parsed) and parsed[-1] == (sre.AT, sre.AT_END)
    body = body[:-1] if anchored else body
    items: list[Item] = []
    for op, av in body:
        lo, hi, (op, av) = (av[0], av[1], av[2][0]) if op is sre.MAX_REPEAT and len(av[2]) == 1 else (1, 1, (op, av))
        table = _class_table(op, av)
        if table is None or (items and items[-1][1] != items[-1][2]):
            return None
        items.append((table, lo, UNBOUNDED if hi is sre.MAXREPEAT else hi))
    if not anchored:
        if items and items[-1][1] != items[-1][2]:
            return None
        items.append((_byte_set(PRINTABLE), 0, UNBOUNDED))
    return items


# The columns of RecordProgram.fields, in the order pipeline/files/_scan.c reads them (its F_* enum).
FIELD_COLUMNS = (
    "start",
    "width",
    "required",
    "byte_class",
    "out_kind",
    "out_slot",
    "item_lo",
    "item_hi",
    "code_lo",
    "code_hi",
    "is_date",
    "is_filler",
)


@dataclass(frozen=True)
class RecordProgram:
    """Flat arrays the scanner reads; row f of `fields` describes `record.fields[f]`."""

    fields: np.ndarray  # (fields, FIELD_COLUMNS) int64: start is 0-based; the pattern of field f is
    # items item_lo..item_hi, its allowed values codes code_lo..code_hi (-1: none)
    items: np.ndarray  # (items, 2) int64: min and max repeat
    tables: np.ndarray  # (items, 256) uint8: 1 where the item accepts the byte
    code_bytes: np.ndarray  # (codes, max length) uint8
    code_len: np.ndarray  # int64
    rules: tuple[tuple[int, ...], ...]  # any_of rules as field indexes
    needs_polars: tuple[str, ...]  # fields whose pattern the scanner cannot run
    n_out: tuple[int, int, int]  # how many text, date, amount outputs

    def column(self, name: str) -> np.ndarray:
        return self.fields[:, FIELD_COLUMNS.index(name)]


def _program(f) -> list[Item] | None:
    """The field's pattern as items ([] when it has none); None when it must be left to polars."""
    return pattern_items(f.pattern) if f.pattern else []


def _out_kind(f) -> int:
    return {"filler": OUT_NONE, "date": OUT_DATE, "amount": OUT_AMOUNT}.get(f.type, OUT_TEXT)


def _field_row(f, kind: int, slot: int, items: tuple[int, int], codes: tuple[int, int]) -> list[int]:
    return [
        f.start - 1,
        f.length,
        f.required,
        TYPE_CLASS.get(f.type, CLASS_ANY),
        kind,
        slot,
        *items,
        *codes,
        f.type == "date",
        f.type == "filler",
    ]


@cache
def compile_record(record: Record) -> RecordProgram:
    rows, items, codes, slots, polars_only = [], [], [], [0, 0, 0, 0], []
    for f in record.fields:
        program = _program(f)
        if program is None:
            polars_only.append(f.name)
        item_span = (len(items), len(items) + len(program or []))
        items += program or []
        if f.type == "code" and not all(v.isascii() and v.isprintable() for v in f.values):
            raise ValueError(f"{record.id}.{f.name}: code values must be printable ASCII")
        code_span = (len(codes), len(codes) + len(f.values)) if f.type == "code" else (-1, -1)
        codes += [v.encode() for v in f.values] if f.type == "code" else []
        kind = _out_kind(f)
        rows.append(_field_row(f, kind, slots[kind], item_span, code_span))
        slots[kind] += 1
    width = max([len(c) for c in codes] + [1])
    code_bytes = np.zeros((len(codes), width), dtype=np.uint8)
    for i, c in enumerate(codes):
        code_bytes[i, : len(c)] = np.frombuffer(c, dtype=np.uint8)
    names = [f.name for f in record.fields]
    return RecordProgram(
        fields=np.array(rows, dtype=np.int64).reshape(len(rows), len(FIELD_COLUMNS)),
        items=np.array([(lo, hi) for _, lo, hi in items], dtype=np.int64).reshape(len(items), 2),
        tables=np.stack([t for t, _, _ in items]).astype(np.uint8) if items else np.zeros((0, 256), dtype=np.uint8),
        code_bytes=code_bytes,
        code_len=np.array([len(c) for c in codes], dtype=np.int64),
        rules=tuple(tuple(names.index(n) for n in r.any_of) for r in record.rules),
        needs_polars=tuple(polars_only),
        n_out=(slots[OUT_TEXT], slots[OUT_DATE], slots[OUT_AMOUNT]),
    )


@dataclass(frozen=True)
class Identifiers:
    """A layout's record identifiers as arrays: row i of `values` (its first lengths[i] bytes) at 0-based
    column starts[i] names record record_index[i]; the extra last entry of record_index is what a line
    matching none of them is (the default record, or -1)."""

    starts: np.ndarray
    lengths: np.ndarray
    values: np.ndarray  # (identifiers, max length) uint8
    record_index: np.ndarray


@cache
def compile_identifiers(layout: Layout) -> Identifiers:
    specific = [(i, r) for i, r in enumerate(layout.records) if not r.is_default]
    values = np.zeros((len(specific), max([len(r.match_value) for _, r in specific] + [1])), dtype=np.uint8)
    for row, (_, r) in enumerate(specific):
        values[row, : len(r.match_value)] = np.frombuffer(r.match_value.encode(), dtype=np.uint8)
    default = next((i for i, r in enumerate(layout.records) if r.is_default), -1)
    return Identifiers(
        starts=np.array([r.match_start - 1 for _, r in specific], dtype=np.int64),
        lengths=np.array([len(r.match_value) for _, r in specific], dtype=np.int64),
        values=values,
        record_index=np.array([i for i, _ in specific] + [default], dtype=np.int64),
    )
