from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.pipeline.cycle.builder import AS_OF, build_home

FPLS = [sys.executable, "-m", "pipeline.cli"]
ROOT = Path(__file__).resolve().parents[3]


def fpls(*args: str, fault: str | None = None, check: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "FPLS_POLL_SECONDS": "0"}
    env.pop("FPLS_FAULT", None)
    if fault:
        env["FPLS_FAULT"] = fault
    proc = subprocess.run([*FPLS, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    if check and proc.returncode != 0:
        raise AssertionError(f"fpls {' '.join(args)} → {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def run_home(home: Path, fault: str | None = None, as_of: str = AS_OF, *extra: str) -> subprocess.CompletedProcess:
    return fpls("run", "--home", str(home), "--as-of", as_of, *extra, fault=fault)


@contextmanager
def read_store(home: Path):
    """A read-only connection to a home's store, closed afterwards."""
    from pipeline import store

    con = store.connect(home, read_only=True)
    try:
        yield con
    finally:
        con.close()


def query_store(home: Path, sql: str, params: list | None = None):
    """One query over a home's store as a polars frame."""
    from pipeline import store

    with read_store(home) as con:
        return store.frame(con, sql, params)


def dump_store(home: Path) -> dict:
    """Every store table as a polars frame (to compare two homes)."""
    from pipeline import store

    with read_store(home) as con:
        return store.dump_tables(con)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def reference_home(tmp_path_factory) -> Path:
    """The builder home after one uninterrupted cycle."""
    home = build_home(tmp_path_factory.mktemp("ref") / "home")
    proc = run_home(home, None, AS_OF, "--json")
    assert proc.returncode == 0, proc.stderr
    (home / "run.json").write_text(proc.stdout)
    (home / "run.stderr").write_text(proc.stderr)
    return home
