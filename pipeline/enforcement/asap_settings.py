"""Per-state settings of the early-intervention (ASAP) program: `<home>/states/<ST>.yaml`.

What a state's letters say (agency, office, toll-free number, hours) and how many it mails a week, e.g.

    state: KS
    agency: Kansas Child Support Services
    office: {name: Early Intervention Unit, address_line_1: 555 S KANSAS AVE, city: TOPEKA, state: KS, zip: "66603"}
    toll_free: 1-888-555-0142
    hours: Monday to Friday, 8 a.m. to 5 p.m.
    asap: {weekly_letters: 250, resend_after_days: 180, hold_after_contact_days: 30}

A state without a settings file mails no ASAP letters (a letter without the state's own number and office
is worse than none); the enforcement stage says so in its result. A file that lacks a required key, or
names another state, is a configuration error (exit 78 from `fpls run`), never silently defaulted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

SETTINGS_DIR = "states"
DEFAULTS = {"weekly_letters": 100, "resend_after_days": 180, "hold_after_contact_days": 30}
PHONE = re.compile(r"^1-8\d\d-\d{3}-\d{4}$")


class SettingsError(ValueError):
    """A state settings file is unusable (the message names the file and the key)."""


@dataclass(frozen=True)
class StateSettings:
    state: str
    agency: str
    office_name: str
    office_address: str
    office_city_line: str
    toll_free: str
    hours: str
    weekly_letters: int
    resend_after_days: int
    hold_after_contact_days: int


def _need(data: dict, key: str, path: Path) -> str:
    value = data.get(key)
    if value is None or str(value).strip() == "":
        raise SettingsError(f"{path}: '{key}' is required")
    return str(value).strip()


def parse_settings(data: dict, path: Path) -> StateSettings:
    state = _need(data, "state", path).upper()
    if state != path.stem.upper():
        raise SettingsError(f"{path}: names state {state}, the file is for {path.stem.upper()}")
    office = data.get("office") or {}
    if not isinstance(office, dict):
        raise SettingsError(f"{path}: 'office' must be a mapping")
    phone = _need(data, "toll_free", path)
    if not PHONE.match(phone):
        raise SettingsError(f"{path}: toll_free must look like 1-8XX-NNN-NNNN, got {phone!r}")
    program = {**DEFAULTS, **(data.get("asap") or {})}
    numbers = {}
    for key in DEFAULTS:
        try:
            numbers[key] = int(program[key])
        except (TypeError, ValueError):
            raise SettingsError(f"{path}: asap.{key} must be a whole number") from None
        if numbers[key] < 0:
            raise SettingsError(f"{path}: asap.{key} must not be negative")
    city_line = f"{_need(office, 'city', path)}, {_need(office, 'state', path)} {_need(office, 'zip', path)}"
    return StateSettings(
        state=state,
        agency=_need(data, "agency", path),
        office_name=_need(office, "name", path),
        office_address=_need(office, "address_line_1", path),
        office_city_line=city_line,
        toll_free=phone,
        hours=str(data.get("hours") or "").strip(),
        **numbers,
    )


def load_settings(home: Path) -> dict[str, StateSettings]:
    """Every `<home>/states/<ST>.yaml`, checked; {} when the folder does not exist."""
    folder = Path(home) / SETTINGS_DIR
    out: dict[str, StateSettings] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise SettingsError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(data, dict):
            raise SettingsError(f"{path}: expected a mapping")
        settings = parse_settings(data, path)
        out[settings.state] = settings
    return out
