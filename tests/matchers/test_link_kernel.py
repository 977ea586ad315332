"""`fpls link --engine spark` writes the embedded engine's pairs file byte for byte (pair comparison per
partition of candidate pairs under Spark local[2]; training and decisions on the driver)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.matchers.persongen import make_pair

ROOT = Path(__file__).resolve().parents[2]


def link(left: Path, right: Path, out: Path, *engine: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    cmd = [sys.executable, "-m", "pipeline.cli", "link", str(left), str(right), "--out", str(out), *engine]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)


def test_link_on_spark_equals_embedded(tmp_path):
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java on PATH or JAVA_HOME: the Spark engine cannot run here")
    left, right, _ = make_pair(3000, 2000, seed=17)
    left.write_csv(tmp_path / "left.csv")
    right.write_csv(tmp_path / "right.csv")
    local = link(tmp_path / "left.csv", tmp_path / "right.csv", tmp_path / "local.csv")
    assert local.returncode == 0, local.stderr
    spark = link(
        tmp_path / "left.csv",
        tmp_path / "right.csv",
        tmp_path / "spark.csv",
        "--engine",
        "spark",
        "--spark-master",
        "local[2]",
    )
    assert spark.returncode == 0, spark.stderr[-4000:]
    assert (tmp_path / "spark.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert (tmp_path / "local.csv").read_text().count("\n") > 1000
    assert not list(tmp_path.glob(".fpls-link-*"))
