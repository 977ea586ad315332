"""Retention: `fpls purge` removes old cycle folders and NDNH history past 24 months, and logs it."""

from __future__ import annotations

import json

from tests.pipeline.cycle.builder import build_home, put, w4, w4_file
from tests.pipeline.cycle.conftest import fpls, query_store, run_home

OLD, NEW = "2024-06-03", "2026-11-02"


def test_purge_removes_what_has_outlived_its_purpose(tmp_path):
    home = build_home(tmp_path / "home", bad=False)
    assert run_home(home, None, OLD).returncode == 0
    put(
        home,
        "SDNH-KS",
        "w4_ks_000008.dat",
        w4_file(rows=[w4("123456781", "ANNA", "SMITH", "19850102", "20261030")]).replace(b"000007", b"000008", 1),
    )
    assert run_home(home, None, NEW).returncode == 0
    old_cycle = "20240603-01"
    assert list((home / "archive").glob(old_cycle)) and list((home / "outbound").glob(f"*/{old_cycle}"))

    out = fpls("purge", "--home", str(home), "--older-than", "30", "--as-of", "2026-11-10", "--json", check=True)
    removed = json.loads(out.stdout)["removed"]

    assert not list((home / "archive").glob(old_cycle)) and not list((home / "outbound").glob(f"*/{old_cycle}"))
    assert list((home / "archive").glob("20261102-01")), "the recent cycle stays"
    received = {d.isoformat() for d in query_store(home, "SELECT DISTINCT received FROM ndnh")["received"]}
    logged = query_store(home, "SELECT kind, sum(items) FROM purge_log GROUP BY kind").rows()
    assert received == {NEW}, received
    ndnh = next(r for r in removed if r["kind"] == "ndnh")
    assert ndnh["items"] > 0 and dict(logged)["ndnh"] == ndnh["items"]
    assert {"archive", "outbound"} <= {r["kind"] for r in removed}
