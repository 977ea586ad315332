"""Render report pages in headless Chromium: charts drawn, no console output, a screenshot taken.

Chromium is Debian's `chromium` package. `.ci/run` installs it on a CI machine (apt-get, as root); where it
is absent the tests skip with that reason (shown by `-rs` in the pytest options), never silently.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

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
]


def _render(chromium: str, page: Path, profile: Path) -> tuple[str, str]:
    run = subprocess.run(
        [chromium, *FLAGS, "--dump-dom", f"--user-data-dir={profile}", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
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


def render_checked(chromium: str, page: Path, profile: Path, min_charts: int = 1) -> str:
    """The page's DOM after rendering: every chart drawn, none failed, no console output."""
    dom, log = _render(chromium, page, profile)
    expected = int(re.search(r'data-charts-expected="(\d+)"', dom).group(1))
    assert expected >= min_charts
    assert f'data-charts-rendered="{expected}"' in dom and 'data-charts-failed="0"' in dom, page.name
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert not console, console
    return dom


def screenshot(chromium: str, page: Path, png: Path, profile: Path) -> Path:
    """A full-width screenshot of the page as Chromium draws it (PNG)."""
    run = subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--screenshot={png}",
            "--window-size=1200,2400",
            f"--user-data-dir={profile}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and png.is_file(), run.stderr[-2000:]
    return png
