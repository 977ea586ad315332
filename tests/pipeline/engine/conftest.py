"""A generated home (a few thousand persons, every inbound file type) run once by each engine, shared by the
Spark tests of the session: the JVM and the cycle cost tens of seconds, paid once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
AS_OF = "2026-11-02"
PERSONS = "3000"
SPARK_MASTER = "local[2]"


def fpls(*args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "FPLS_POLL_SECONDS": "0",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }
    env.pop("FPLS_FAULT", None)
    if fault:
        env["FPLS_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT
    )


def run_cycle(home: Path, engine: str, fault: str | None = None) -> subprocess.CompletedProcess:
    extra = ("--engine", engine) + (("--spark-master", SPARK_MASTER) if engine == "spark" else ())
    return fpls("run", "--home", str(home), "--as-of", AS_OF, *extra, fault=fault)


def needs_java() -> None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java on PATH or JAVA_HOME: the Spark engine (and its parity test) cannot run here")


@pytest.fixture(scope="session")
def generated_home(tmp_path_factory) -> Path:
    """The untouched generated home; each engine's test copies it."""
    out = tmp_path_factory.mktemp("engine") / "generated"
    proc = fpls(
        "generate", "--persons", PERSONS, "--states", "KS,MO,OK", "--seed", "17", "--as-of", AS_OF, "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    return out


def _ran(generated: Path, target: Path, engine: str) -> Path:
    shutil.copytree(generated, target)
    proc = run_cycle(target, engine)
    assert proc.returncode == 0, f"--engine {engine}: {proc.returncode}\n{proc.stderr[-4000:]}"
    return target


@pytest.fixture(scope="session")
def local_home(generated_home, tmp_path_factory) -> Path:
    return _ran(generated_home, tmp_path_factory.mktemp("engine") / "local", "local")


@pytest.fixture(scope="session")
def spark_home(generated_home, tmp_path_factory) -> Path:
    needs_java()
    return _ran(generated_home, tmp_path_factory.mktemp("engine") / "spark", "spark")
