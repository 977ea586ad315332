"""Render tests/cases/enforcement/offset_cases.yaml to fixed-width debtor files (run once; files are committed).

.venv/bin/python -m tests.pipeline.enforcement.make_cases
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import yaml

from pipeline.files.layouts import load_layout
from pipeline.files.writer import fixed_bytes

ROOT = Path(__file__).resolve().parents[3]
CASES = ROOT / "tests" / "cases" / "enforcement"
KEYS = {
    "t": "transaction_type",
    "ssn": "ssn",
    "last": "last_name",
    "first": "first_name",
    "amt": "arrearage",
    "type": "case_type",
    "state": "submitting_state",
    "case": "case_id",
    "local": "local_code",
    "excl": "exclusions",
    "addr": "address_line_1",
    "xstate": "transfer_state",
    "xlocal": "transfer_local_code",
    "year": "process_year",
}


def record(spec: dict) -> dict:
    row = {"submitting_state": "KS", "case_type": "A", "first_name": "ANNA", "case_id": "KSCASE1"}
    row.update({KEYS[k]: (str(v) if v != "" else None) for k, v in spec.items()})
    return row


def debtor_file(records: list[dict], state: str = "KS") -> bytes:
    rows = [record(r) for r in records]
    frame = pl.DataFrame(rows, schema={c: pl.Utf8 for c in KEYS.values()}).select([c for c in KEYS.values()])

    def tot(ct: str, what: str) -> str:
        sel = [r for r in rows if r.get("case_type") == ct]
        return (
            str(len(sel))
            if what == "n"
            else str(sum(int(r["arrearage"]) for r in sel if (r.get("arrearage") or "").isdigit()))
        )

    ctl = pl.DataFrame(
        {
            "submitting_state": [state],
            "tanf_count": [tot("A", "n")],
            "non_tanf_count": [tot("N", "n")],
            "tanf_amount": [tot("A", "a")],
            "non_tanf_amount": [tot("N", "a")],
        }
    )
    return fixed_bytes(load_layout("offset_debtor"), [("CTL", ctl), ("CASE", frame)])


def main() -> None:
    cases = yaml.safe_load((CASES / "offset_cases.yaml").read_text())
    for name, cycles in cases.items():
        folder = CASES / "offset" / name
        folder.mkdir(parents=True, exist_ok=True)
        for i, recs in enumerate(cycles, 1):
            (folder / f"cycle{i}.dat").write_bytes(debtor_file(recs))


if __name__ == "__main__":
    main()
