from __future__ import annotations

import pytest

from pipeline.enforcement import wire_into_cycle


@pytest.fixture(autouse=True, scope="package")
def enforcement_wired():
    """Wire the enforcement stage into the loader and the cycle for these tests only (undone afterwards,
    so other packages' in-process cycles are unaffected). A no-op once the lead has wired it for real."""
    unwire = wire_into_cycle()
    yield
    if unwire is not None:
        unwire()
