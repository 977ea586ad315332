"""CLI tests share the builder home after one cycle (tests/pipeline/cycle/conftest.py)."""

from tests.pipeline.cycle.conftest import reference_home  # noqa: F401  (a fixture, re-exported)
