"""The `fpls` process hides pandas (DuckDB and pandera would import it, ~0.9 s a process) unless Spark is asked for."""

import importlib.util
import subprocess
import sys

from pipeline.cli.entry import wants_spark

PROBE = """
import sys
from pipeline.cli import entry
sys.argv = ["fpls", *sys.argv[1:]]
try:
    entry.main()
except SystemExit:
    pass
import duckdb
duckdb.connect().execute("SELECT ?", [1]).fetchall()  # DuckDB imports pandas here when it can
print("pandas" in sys.modules)
"""


def _pandas_loaded(*argv: str) -> bool:
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    return proc.stdout.strip().splitlines()[-1] == "True"


def test_commands_run_without_pandas():
    assert not _pandas_loaded("layouts")


def test_the_spark_engine_keeps_pandas_when_installed():
    assert _pandas_loaded("run", "--engine", "spark", "--help") == (importlib.util.find_spec("pandas") is not None)


def test_wants_spark_reads_the_command_line():
    assert wants_spark(["run", "--engine", "spark"]) and wants_spark(["link", "--spark-master=local[2]"])
    assert not wants_spark(["run", "--engine", "local"]) and not wants_spark(["query", "person", "--ssn", "x"])
