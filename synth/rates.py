"""Rates of the synthetic world: documented defaults in synth/rates.yaml, optionally overridden."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

DEFAULTS = Path(__file__).resolve().parent / "rates.yaml"


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_rates(override: Path | None = None) -> dict[str, Any]:
    """The default rates merged with an override YAML (any subset of keys)."""
    rates = yaml.safe_load(DEFAULTS.read_text())
    if override is not None:
        rates = _merge(rates, yaml.safe_load(Path(override).read_text()) or {})
    default = rates["noise"]["default"]
    rates["noise"] = {k: {**default, **v} for k, v in rates["noise"].items()}
    return rates
