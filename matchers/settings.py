"""Settings for person matching: a YAML file compiled to a plain, printable dict (Splink-style).

`python -m matchers.settings [FILE]` prints the compiled settings as JSON.
"""

from __future__ import annotations

import json
import sys
from copy import deepcopy
from pathlib import Path
from typing import Any

import yaml

from matchers.blocking import BlockingRule
from matchers.comparisons import COMPARISONS

DEFAULT_SETTINGS = Path(__file__).with_name("settings.yaml")


class SettingsError(ValueError):
    """The settings file is unreadable or inconsistent (exit 78, configuration)."""


def load_settings(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read, check and compile settings to a plain dict (comparisons expanded with their levels)."""
    source = Path(path) if path else DEFAULT_SETTINGS
    try:
        raw = yaml.safe_load(source.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"cannot read settings {source}: {exc}") from None
    settings = deepcopy(raw)
    for key, value in (overrides or {}).items():
        settings[key] = value
    return compile_settings(settings)


def compile_settings(settings: dict[str, Any]) -> dict[str, Any]:
    thresholds = settings.get("thresholds") or {}
    match, review = float(thresholds.get("match", 0.9)), float(thresholds.get("review", 0.5))
    if not 0 < review <= match <= 1:
        raise SettingsError(f"thresholds must satisfy 0 < review <= match <= 1 (got review={review}, match={match})")
    names = list(settings.get("comparisons") or [])
    unknown = [n for n in names if n not in COMPARISONS]
    if unknown:
        raise SettingsError(f"unknown comparison(s): {', '.join(unknown)}; known: {', '.join(COMPARISONS)}")
    rules = settings.get("blocking_rules") or []
    try:
        parsed = [BlockingRule.from_dict(r) for r in rules]
    except (KeyError, TypeError) as exc:
        raise SettingsError(f"bad blocking rule: {exc}") from None
    rule_names = [r.name for r in parsed]
    training = dict(settings.get("training") or {})
    missing = [r for r in training.get("em_rules", []) if r not in rule_names]
    if missing:
        raise SettingsError(f"training.em_rules names unknown blocking rule(s): {', '.join(missing)}")
    return {
        "thresholds": {"match": match, "review": review},
        "comparisons": [
            {
                "name": n,
                "levels": list(COMPARISONS[n].levels),
                "fixed_weights": dict(COMPARISONS[n].fixed_weights),
                "term_frequency": n in (settings.get("term_frequency") or []),
            }
            for n in names
        ],
        "blocking_rules": [
            {
                "name": r.name,
                "kind": r.kind,
                "keys": list(r.keys),
                "right_keys": list(r.right_keys),
                "within": list(r.within),
                "max_pairs": r.max_pairs,
                "max_pairs_per_record": r.max_pairs_per_record,
                "max_block_pairs": r.max_block_pairs,
            }
            for r in parsed
        ],
        "training": {
            "em_rules": list(training.get("em_rules", [])),
            "em_max_iterations": int(training.get("em_max_iterations", 30)),
            "em_tolerance": float(training.get("em_tolerance", 1e-4)),
            "u_sample_pairs": int(training.get("u_sample_pairs", 50_000)),
            "u_stratum_pairs": int(training.get("u_stratum_pairs", 20_000)),
            "u_rounds": max(1, int(training.get("u_rounds", 3))),
            "seed": int(training.get("seed", 0)),
            "min_pairs_per_rule": int(training.get("min_pairs_per_rule", 50)),
            "prior": training.get("prior", "estimate"),
            "min_pairs_to_train": int(training.get("min_pairs_to_train", 1_000_000)),
        },
    }


def blocking_rules(settings: dict[str, Any]) -> list[BlockingRule]:
    return [BlockingRule.from_dict(r) for r in settings["blocking_rules"]]


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(load_settings(sys.argv[1] if len(sys.argv) > 1 else None), indent=2))
