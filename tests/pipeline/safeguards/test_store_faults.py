"""Fault campaign, the store's side: a WAL left by a crash and a key rotation, a kill or a full disk while the
reports are written, a corrupt data block, and operators reading (or reporting) while a cycle runs.

Expected every time: no traceback, a sysexits status, no data lost or doubled, no SSN in clear on disk, and
the next run ends exactly where an undisturbed run does."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from pipeline import store
from tests.pipeline.cycle.builder import build_home
from tests.pipeline.cycle.conftest import FPLS, ROOT, fpls, query_store, run_home
from tests.pipeline.safeguards.test_faults import CYCLES, assert_same_home, second_drop
from tests.pipeline.safeguards.test_faults import two_cycle_reference as two_cycle_reference_fixture

two_cycle_reference = two_cycle_reference_fixture

SSNS = (b"123456781", b"223456782", b"423456784")


def _clear_ssns(home) -> list[str]:
    """Store files (store, WAL, snapshot) holding a registered SSN in clear."""
    return [p.name for p in home.glob("fpls*") if p.is_file() and any(ssn in p.read_bytes() for ssn in SSNS)]


@pytest.fixture
def keyed(tmp_path, monkeypatch):
    """Point FPLS_DB_KEY_FILE (this process and the fpls it starts) at a key file; returns a key-writer."""

    def write(name: str, key: str):
        path = tmp_path / name
        path.write_text(key)
        return path

    return write


@pytest.mark.parametrize("start_encrypted", [False, True], ids=["encrypt-plain", "rotate"])
def test_rekey_after_a_crash_leaves_no_wal_and_the_rerun_is_exact(
    reference_home, tmp_path, keyed, monkeypatch, start_encrypted
):
    home = build_home(tmp_path / "home")
    if start_encrypted:
        monkeypatch.setenv("FPLS_DB_KEY_FILE", str(keyed("old.key", "old-secret-key")))
    killed = run_home(home, "outbound:1")
    assert killed.returncode == -signal.SIGKILL
    assert (home / "fpls.duckdb.wal").exists(), "the crash should leave a WAL (else this test proves nothing)"
    new = keyed("new.key", "new-secret-key")
    rotated = fpls("store", "rekey", "--home", str(home), "--new-key-file", str(new))
    assert rotated.returncode == 0, rotated.stderr
    assert not (home / "fpls.duckdb.wal").exists(), "rekey left the old WAL beside the new store"
    assert not _clear_ssns(home), "SSNs in clear after encrypting"
    monkeypatch.setenv("FPLS_DB_KEY_FILE", str(new))
    rerun = run_home(home)
    assert rerun.returncode == 0, rerun.stderr
    got = {t: query_store(home, f"SELECT count(*) FROM {t}").item() for t in ("fcr_persons", "matches", "ndnh")}
    monkeypatch.delenv("FPLS_DB_KEY_FILE")
    expected = {t: query_store(reference_home, f"SELECT count(*) FROM {t}").item() for t in got}
    assert got == expected, "the old WAL was replayed: rows doubled"
    for area in ("outbound", "archive", "quarantine"):
        assert sorted(p.name for p in (home / area).rglob("*")) == sorted(
            p.name for p in (reference_home / area).rglob("*")
        ), area


def test_rekey_refuses_clearly_while_busy_or_without_its_key_file(reference_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(reference_home, home)
    missing = fpls("store", "rekey", "--home", str(home), "--new-key-file", str(tmp_path / "nope.key"))
    assert missing.returncode == 66 and "Traceback" not in missing.stderr, missing.stderr
    (tmp_path / "k").write_text("a-key")
    with store.home_lock(home):  # a cycle runs
        busy = fpls("store", "rekey", "--home", str(home), "--new-key-file", str(tmp_path / "k"))
    assert busy.returncode == 75 and "Traceback" not in busy.stderr, busy.stderr


def test_a_plain_store_opened_with_a_key_is_not_called_a_wrong_key(reference_home, tmp_path, keyed):
    home = tmp_path / "home"
    shutil.copytree(reference_home, home)
    env_key = keyed("k.key", "some-key")
    proc = subprocess.run(
        [*FPLS, "query", "person", "--home", str(home), "--name", "ANNA SMITH"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "FPLS_DB_KEY_FILE": str(env_key)},
    )
    assert proc.returncode == 78 and "not encrypted" in proc.stderr and "wrong" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("fault", ["reports:1", "reports:5", "enospc-reports:3"])
def test_kill_or_full_disk_while_writing_reports_is_redone_by_the_rerun(reference_home, tmp_path, fault):
    home = build_home(tmp_path / "home")
    broken = run_home(home, fault)
    assert broken.returncode in (-signal.SIGKILL, 74), (broken.returncode, broken.stderr)
    assert "Traceback" not in broken.stderr
    state = query_store(home, "SELECT status FROM cycles").item()
    assert state != "done", "the cycle was marked done before its reports were durable"
    rerun = run_home(home)
    assert rerun.returncode == 0, rerun.stderr
    assert "nothing ready" not in rerun.stderr
    names = sorted(p.name for p in (home / "reports").rglob("*") if p.is_file())
    assert names == sorted(p.name for p in (reference_home / "reports").rglob("*") if p.is_file())
    assert any(n.startswith("employer_reporting_") for n in names), "the enforcement stage's report was lost"


def _hold_store(home, seconds: float) -> subprocess.Popen:
    """Another process (an operator's long query) holding the live store read-only."""
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from pipeline import store; from pathlib import Path\n"
        "con = store.connect(Path(sys.argv[2]), read_only=True); print('held', flush=True); "
        "time.sleep(float(sys.argv[3])); con.close()"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(ROOT), str(home), str(seconds)], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"held"
    return proc


def test_a_reader_holding_the_store_makes_run_busy_not_a_crash(reference_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(reference_home, home)
    second_drop(home)
    reader = _hold_store(home, 30)
    try:
        proc = subprocess.run(
            [*FPLS, "run", "--home", str(home), "--as-of", CYCLES[1]],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "FPLS_POLL_SECONDS": "0", "FPLS_BUSY_WAIT": "0.5"},
        )
    finally:
        reader.kill()
        reader.wait()
    assert proc.returncode == 75 and "busy" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert (home / "inbound" / "SDNH-KS" / "w4_ks_000008.dat").exists()


def test_watch_survives_a_reader_and_runs_once_it_lets_go(reference_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(reference_home, home)
    second_drop(home)
    reader = _hold_store(home, 3)
    env = {**os.environ, "FPLS_POLL_SECONDS": "0.2", "FPLS_BUSY_WAIT": "0.2"}
    env.pop("FPLS_FAULT", None)
    watcher = subprocess.Popen(
        [*FPLS, "run", "--home", str(home), "--as-of", CYCLES[1], "--watch", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and watcher.poll() is None:
            log = home / "logs" / "20261109-01.jsonl"
            if log.exists() and '"cycle_done"' in log.read_text():
                break
            time.sleep(0.5)
        alive = watcher.poll() is None
    finally:
        reader.wait()
        watcher.send_signal(signal.SIGINT)
        _out, err = watcher.communicate(timeout=30)
    assert alive, f"--watch died: {err[-2000:]}"
    assert "Traceback" not in err
    assert query_store(home, "SELECT count(*) FROM cycles WHERE status = 'done'").item() == 2


def test_operators_query_during_a_cycle_from_the_last_completed_one(two_cycle_reference, tmp_path):
    home = build_home(tmp_path / "home")
    assert run_home(home, None, CYCLES[0]).returncode == 0
    second_drop(home)
    env = {**os.environ, "FPLS_POLL_SECONDS": "0", "FPLS_FAULT": "sleep:ndnh:8"}
    cycle = subprocess.Popen(
        [*FPLS, "run", "--home", str(home), "--as-of", CYCLES[1]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        time.sleep(3)  # the cycle holds the store (it sleeps in its NDNH stage)
        assert cycle.poll() is None
        started = time.monotonic()
        query = fpls("query", "person", "--home", str(home), "--name", "ANNA SMITH", "--json")
        seconds = time.monotonic() - started
        report = fpls("report", "--home", str(home))
    finally:
        out, err = cycle.communicate(timeout=300)
    assert query.returncode == 0, query.stderr
    answer = json.loads(query.stdout)
    assert answer["answered_from"] == {"snapshot": True, "cycle": "20261102-01"}, answer
    assert answer["persons"] and "last completed cycle 20261102-01" in query.stderr
    assert seconds < 10, seconds
    assert report.returncode == 75 and "Traceback" not in report.stderr, report.stderr
    assert cycle.returncode == 0, err
    assert_same_home(home, two_cycle_reference)
