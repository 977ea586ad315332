"""Render the national index and a state page in headless Chromium: charts drawn, no console output.

Chromium comes from Debian's `chromium` package; when it is missing the test installs it (root, apt).
If it cannot be installed the test fails - it is never skipped silently.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=15000",
    "--dump-dom",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        done = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"], env=env, capture_output=True, text=True, timeout=900
        )
        if not Path(CHROMIUM).exists():
            pytest.fail(f"chromium is required and could not be installed: {done.stderr[-2000:]}")
    return CHROMIUM


def _render(chromium: str, page: Path, profile: Path) -> tuple[str, str]:
    run = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout, run.stderr


@pytest.mark.parametrize("page", ["index.html", "KS.html"])
def test_page_renders_its_charts_without_console_errors(small, chromium, tmp_path, page):
    _, _, result = small
    dom, log = _render(chromium, Path(result.directory) / page, tmp_path / "profile")
    expected = int(re.search(r'data-charts-expected="(\d+)"', dom).group(1))
    assert expected >= 4
    assert f'data-charts-rendered="{expected}"' in dom, "not every chart was drawn"
    assert 'data-charts-failed="0"' in dom
    assert dom.count("<svg") >= expected and "role-mark" in dom  # vega drew marks into SVG
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert not console, console
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)
