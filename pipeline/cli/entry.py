"""The `fpls` process entry: hides pandas before anything imports it, unless the Spark engine is asked for.

DuckDB imports pandas before it binds any query parameter when pandas is installed (duckdb PR 18658), and pandera
imports it at import: about 0.9 s of CPU in every `fpls` process, an operator's query included. Only the Spark
engine needs pandas (pyspark's Arrow UDFs; the `spark` extra installs it), so every other command runs as if it
were absent. Spark's own Python workers do not start here, so they keep it.
"""

from __future__ import annotations

import importlib.abc
import sys


class _WithoutPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("No module named 'pandas'", name="pandas")  # the words pandera tolerates
        return None


def wants_spark(argv: list[str]) -> bool:
    """A word of the command line that names Spark (`--engine spark`, `--spark-master`): keep pandas."""
    return any("spark" in arg.lower() for arg in argv)


def main() -> None:
    if not wants_spark(sys.argv[1:]) and "pandas" not in sys.modules:
        sys.meta_path.insert(0, _WithoutPandas())
    from pipeline.cli.app import main as run_app

    run_app()
