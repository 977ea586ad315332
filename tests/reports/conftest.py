from __future__ import annotations

from pathlib import Path

import pytest

from reports.build import build_reports
from tests.reports.storekit import C2, build_small_store


@pytest.fixture(scope="session")
def small(tmp_path_factory):
    """(home, con, ReportResult) for the hand-built two-state store, reports built for cycle C2."""
    home = tmp_path_factory.mktemp("small_home")
    con = build_small_store(home)
    result = build_reports(con, home, C2)
    yield home, con, result
    con.close()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium; `.ci/run` installs it. Absent: the test skips and says why (-rs)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs it: apt-get install -y chromium)")
    return CHROMIUM
