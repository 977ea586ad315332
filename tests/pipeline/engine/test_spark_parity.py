"""The Spark engine gives the embedded engine's bytes: outbound files, manifests, `fpls eval --json`; a cycle
killed while its Spark stage works reruns from the sealed Parquet inputs to the same bytes."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

from tests.pipeline.engine.conftest import fpls, needs_java, run_cycle


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def eval_json(home: Path) -> str:
    proc = fpls("eval", "--home", str(home), "--json")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_outbound_manifests_and_eval_are_byte_identical(local_home, spark_home):
    local, spark = tree_bytes(local_home / "outbound"), tree_bytes(spark_home / "outbound")
    assert any(name.endswith("manifest.json") for name in local)
    assert len(local) > 20, sorted(local)  # every response type of the generated home, not an empty cycle
    assert sorted(spark) == sorted(local)
    assert [n for n in local if spark[n] != local[n]] == []
    assert eval_json(spark_home) == eval_json(local_home)
    assert json.loads(eval_json(spark_home))["sources"]["ssn_verification"]["tp"] > 0


def test_spark_ran_the_kernels_per_partition(spark_home):
    """The Spark run really went through Spark: each partition's measured cost is logged, no SSN in it."""
    (metrics,) = (spark_home / "logs").glob("*.engine.jsonl")
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    stages = {r["stage"] for r in rows}
    assert {"ssn_verification", "ndnh_verification"} <= stages
    assert sum(r["stage"] == "ssn_verification" for r in rows) >= 2  # hash-partitioned over local[2]
    assert not (spark_home / "spark").exists()  # scratch Parquet (SSNs) removed once the cycle is done


def test_killed_spark_stage_reruns_from_its_parquet(generated_home, spark_home, tmp_path):
    needs_java()
    home = tmp_path / "home"
    shutil.copytree(generated_home, home)
    killed = run_cycle(home, "spark", fault="spark:1")
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    sealed = list((home / "spark").rglob("_inputs.json"))
    assert len(sealed) == 1, sealed  # the first Spark stage's inputs, written before the kill
    rerun = run_cycle(home, "spark")
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    for area in ("outbound", "archive", "quarantine"):
        assert tree_bytes(home / area) == tree_bytes(spark_home / area), area
    assert eval_json(home) == eval_json(spark_home)
    assert not (home / "spark").exists()


def test_missing_pyspark_is_a_configuration_error(tmp_path):
    """Exit 78 with a message naming the extra, before any work (pyspark hidden from the interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['pyspark'] = None; from pipeline.cli.app import main; "
        f"sys.argv = ['fpls', 'run', '--home', {str(tmp_path)!r}, '--engine', 'spark']; main()"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 78, (proc.returncode, proc.stderr)
    assert ".[spark]" in proc.stderr
    assert not (tmp_path / "fpls.duckdb").exists()
