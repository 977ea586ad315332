"""Fault campaign: kills across several cycles, a full disk, a damaged store, a premature .done marker.

Expected every time: no record lost or duplicated, a clear error, and the next run recovers to exactly
what an undisturbed sequence of cycles produces (store tables and every byte of the home's folders).
The store's side (rekey after a crash, reports, readers) is test_store_faults.py; hostile drop-zone entries
test_drop_zone.py."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipeline import store
from pipeline.cycle.inbound import ready_files
from tests.pipeline.cycle.builder import build_home, put, w4, w4_file
from tests.pipeline.cycle.conftest import dump_store, query_store, run_home, tree_bytes

CYCLES = ("2026-11-02", "2026-11-09")
AREAS = ("outbound", "archive", "quarantine", "inbound")
EXAMPLES = int(os.environ.get("FPLS_SOAK_EXAMPLES", "4"))  # `make soak` raises it
KILL_POINTS = ["claim:1", "load:1", "load:3", "fcr:1", "ndnh:1", "outbound:1", "outbound:4", "archive:2"]
KILL_POINTS += ["reports:1", "reports:40", "done:1"]  # the reports stage and the step that marks the cycle done


def second_drop(home) -> None:
    """Cycle 2's inbound: a later W-4 batch (a new hire of a registered person and an unknown one)."""
    rows = [
        w4("123456781", "ANNA", "SMITH", "19850102", "20261105", "444555666", "NEW JOBS LLC"),
        w4("666778888", "NOT", "REGISTERED", "19700101", "20261106"),
    ]
    put(home, "SDNH-KS", "w4_ks_000008.dat", w4_file(rows=rows).replace(b"000007", b"000008", 1))


def assert_same_home(home, reference) -> None:
    for area in AREAS:
        assert tree_bytes(home / area) == tree_bytes(reference / area), area
    expected, got = dump_store(reference), dump_store(home)
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert_frame_equal(got[name], expected[name], check_row_order=True), name


def _run_ok(home, as_of: str) -> None:
    proc = run_home(home, None, as_of)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def two_cycle_reference(tmp_path_factory):
    home = build_home(tmp_path_factory.mktemp("ref2") / "home")
    _run_ok(home, CYCLES[0])
    second_drop(home)
    _run_ok(home, CYCLES[1])
    return home


def _cycle(home, as_of: str, fault: str | None) -> None:
    if fault:
        killed = run_home(home, fault, as_of)
        assert killed.returncode in (-signal.SIGKILL, 0), killed.stderr  # 0: the point was never reached
    _run_ok(home, as_of)


@settings(max_examples=max(4, EXAMPLES), deadline=None, suppress_health_check=list(HealthCheck))
@given(first=st.sampled_from([None, *KILL_POINTS]), second=st.sampled_from([None, *KILL_POINTS]))
def test_sigkill_anywhere_across_two_cycles(two_cycle_reference, tmp_path_factory, first, second):
    home = build_home(tmp_path_factory.mktemp("kill") / "home")
    _cycle(home, CYCLES[0], first)
    second_drop(home)
    _cycle(home, CYCLES[1], second)
    assert_same_home(home, two_cycle_reference)


@pytest.mark.parametrize("nth", [1, 3])
def test_disk_full_in_the_outbound_writer(two_cycle_reference, tmp_path, nth):
    home = build_home(tmp_path / "home")
    _run_ok(home, CYCLES[0])
    second_drop(home)
    full = run_home(home, f"enospc:{nth}", CYCLES[1])
    assert full.returncode == 74 and "No space left on device" in full.stderr, (full.returncode, full.stderr)
    assert not list((home / "outbound").rglob("*.tmp")), "a half-written file was left behind"
    _run_ok(home, CYCLES[1])
    assert_same_home(home, two_cycle_reference)


def test_damaged_store_is_refused_clearly_and_recovers_from_backup(two_cycle_reference, tmp_path):
    home = build_home(tmp_path / "home")
    _run_ok(home, CYCLES[0])
    backup = tmp_path / "backup.duckdb"
    shutil.copy2(home / store.DB_NAME, backup)
    second_drop(home)
    data = bytearray((home / store.DB_NAME).read_bytes())
    data[:4096] = bytes(4096)
    (home / store.DB_NAME).write_bytes(data)
    refused = run_home(home, None, CYCLES[1])
    assert refused.returncode == 74 and "restore it from a backup" in refused.stderr, refused.stderr
    assert (home / "inbound" / "SDNH-KS" / "w4_ks_000008.dat").exists(), "inbound must be untouched"
    shutil.copy2(backup, home / store.DB_NAME)
    _run_ok(home, CYCLES[1])
    assert_same_home(home, two_cycle_reference)


def test_done_marker_before_the_data_is_complete(tmp_path):
    """The partial-.done race: the marker appears while the file is still being written."""
    home = build_home(tmp_path / "home", bad=False)
    _run_ok(home, CYCLES[0])
    data = w4_file(rows=[w4("123456781", "ANNA", "SMITH", "19850102", "20261105", "444555666", "NEW JOBS LLC")])
    path = put(home, "SDNH-KS", "w4_ks_000009.dat", data[:500])  # marker + a partial file

    def finish_late() -> None:  # the submitter's writer
        time.sleep(0.3)
        with path.open("ab") as fh:
            fh.write(data[500:])

    writer = threading.Thread(target=finish_late)
    writer.start()
    ready = ready_files(home / "inbound", poll_seconds=1.0)
    writer.join()
    assert path not in ready, "a file still growing between polls must not be claimed"
    _run_ok(home, CYCLES[1])  # the next cycle takes it whole
    row = query_store(
        home, "SELECT status, records, accepted FROM file_ledger WHERE file_name = 'w4_ks_000009.dat'"
    ).row(0)
    assert row == ("loaded", 3, 3), row
