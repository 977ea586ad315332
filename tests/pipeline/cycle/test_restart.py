"""Restart: SIGKILL `fpls run` at several points, rerun, compare with an uninterrupted run."""

from __future__ import annotations

import signal

import pytest
from polars.testing import assert_frame_equal

from tests.pipeline.cycle.builder import build_home
from tests.pipeline.cycle.conftest import dump_store, run_home, tree_bytes

AREAS = ("outbound", "archive", "quarantine", "inbound")


@pytest.mark.parametrize(
    "fault", ["claim:3", "load:2", "load:7", "fcr:1", "ndnh:1", "outbound:2", "outbound:5", "archive:3"]
)
def test_killed_then_rerun_equals_uninterrupted(reference_home, tmp_path, fault):
    home = build_home(tmp_path / "home")
    killed = run_home(home, fault)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr)
    rerun = run_home(home)
    assert rerun.returncode == 0, rerun.stderr
    for area in AREAS:
        assert tree_bytes(home / area) == tree_bytes(reference_home / area), area
    assert not list((home / "work").rglob("*.dat"))
    expected, got = dump_store(reference_home), dump_store(home)
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert_frame_equal(got[name], expected[name], check_row_order=True), name
