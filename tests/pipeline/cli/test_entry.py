"""The `fpls` process hides pandas (DuckDB and pandera would import it, ~0.9 s a process) unless Spark is asked for."""

import importlib.util

from pipeline.cli.entry import wants_spark
from tests.pipeline.cli.probe import probe_fpls

AFTER = """
import duckdb
duckdb.connect().execute("SELECT ?", [1]).fetchall()  # DuckDB imports pandas here when it can
print("pandas" in sys.modules)
"""


def _pandas_loaded(*argv: str) -> bool:
    return probe_fpls(argv, AFTER).strip().splitlines()[-1] == "True"


def test_commands_run_without_pandas():
    assert not _pandas_loaded("layouts")


def test_the_spark_engine_keeps_pandas_when_installed():
    assert _pandas_loaded("run", "--engine", "spark", "--help") == (importlib.util.find_spec("pandas") is not None)


def test_wants_spark_reads_the_command_line():
    assert wants_spark(["run", "--engine", "spark"]) and wants_spark(["link", "--spark-master=local[2]"])
    assert not wants_spark(["run", "--engine", "local"]) and not wants_spark(["query", "person", "--ssn", "x"])
