"""The metrics layer: every number in a report is a cell of a named SQL query over the store.

The queries live in `reports/*.sql` (block format described at the top of queries.sql). `run` executes
one of them with DuckDB and returns a polars frame whose SSN columns are already masked, so a raw SSN
never leaves this module. `sql_text` gives the exact SQL, so anyone can re-run a number by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from pipeline.safeguards.masking import mask_ssn_expr
from pipeline.store import frame

SQL_DIR = Path(__file__).resolve().parent
_BLOCK = re.compile(r"^-- name: (\S+)\s*$", re.M)
_REQ = re.compile(r"(\w+)\(([^)]*)\)|(\w+)")
_FRAGMENT = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    requires: dict[str, tuple[str, ...]]  # table -> columns the query needs
    sql: str
    source: str  # file the query is defined in
    params: tuple[str, ...] = ()  # named parameters besides $cycle (`-- params: state, case`)


def _parse_requires(text: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for m in _REQ.finditer(text):
        table = m.group(1) or m.group(3)
        cols = tuple(c.strip() for c in (m.group(2) or "").split(",") if c.strip())
        out[table] = tuple(dict.fromkeys(out.get(table, ()) + cols))
    return out


def _parse_block(name: str, body: str, source: str) -> Query:
    title, requires, sql_lines, params = "", {}, [], ()
    for line in body.splitlines():
        if line.startswith("-- title:"):
            title = line.split(":", 1)[1].strip()
        elif line.startswith("-- requires:"):
            requires = _parse_requires(line.split(":", 1)[1])
        elif line.startswith("-- params:"):
            params = tuple(p.strip() for p in line.split(":", 1)[1].split(",") if p.strip())
        elif not line.startswith("--"):
            sql_lines.append(line)
    return Query(name, title, requires, "\n".join(sql_lines).strip().rstrip(";"), source, params)


@cache
def registry() -> dict[str, Query]:
    """name -> Query for every block of every reports/*.sql file, fragments expanded."""
    raw: dict[str, Query] = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        text = path.read_text()
        starts = list(_BLOCK.finditer(text))
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
            name = m.group(1)
            if name in raw:
                raise ValueError(f"query {name} defined twice")
            raw[name] = _parse_block(name, text[m.end() : end], path.name)
    out = {}
    for name, q in raw.items():
        sql = q.sql
        for _ in range(5):  # fragments may use fragments (a few levels, never a cycle)
            sql = _FRAGMENT.sub(lambda f: raw[f.group(1)].sql, sql)
        if "{{" in sql:
            raise ValueError(f"query {name}: fragments nested too deep or in a cycle")
        out[name] = Query(q.name, q.title, q.requires, sql, q.source, q.params)
    return out


def names() -> list[str]:
    """The metrics of the per-cycle pages: every query that needs no parameter but the cycle."""
    return [n for n, q in registry().items() if not n.startswith("_") and not q.params]


def param_names(*params: str) -> list[str]:
    """The queries that take exactly these parameters (besides the cycle), e.g. ("state", "case")."""
    return [n for n, q in registry().items() if not n.startswith("_") and q.params == tuple(params)]


def query(name: str) -> Query:
    return registry()[name]


def sql_text(name: str, cycle_id: str) -> str:
    """The query with the cycle id written in, ready to paste into `duckdb fpls.duckdb`."""
    return query(name).sql.replace("$cycle", "'" + cycle_id.replace("'", "''") + "'")


def store_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    rows = con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def missing(name: str, columns: dict[str, set[str]]) -> list[str]:
    """What the store lacks for this query: `table` or `table.column` entries (empty when it can run)."""
    out = []
    for table, cols in query(name).requires.items():
        if table not in columns:
            out.append(table)
        else:
            out.extend(f"{table}.{c}" for c in cols if c not in columns[table])
    return out


def mask_pii(df: pl.DataFrame) -> pl.DataFrame:
    """Mask every column whose name ends in `ssn` to ***-**-1234."""
    cols = [c for c in df.columns if c.lower().endswith("ssn")]
    return df.with_columns(mask_ssn_expr(c).alias(c) for c in cols) if cols else df


def run_raw(con: duckdb.DuckDBPyConnection, name: str, cycle_id: str, **params) -> pl.DataFrame:
    """The query's result exactly as DuckDB returns it (SSNs NOT masked: tests and internal checks only)."""
    q = query(name)
    missing_params = set(q.params) - set(params)
    if missing_params:
        raise TypeError(f"query {name} needs {', '.join(sorted(missing_params))}")
    values = {"cycle": cycle_id, **params}
    used = {k: v for k, v in values.items() if f"${k}" in q.sql}
    return frame(con, q.sql, used or None)


def run(con: duckdb.DuckDBPyConnection, name: str, cycle_id: str, **params) -> pl.DataFrame:
    return mask_pii(run_raw(con, name, cycle_id, **params))
