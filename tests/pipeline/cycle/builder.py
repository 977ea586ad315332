"""A tiny ready home for cycle tests, written with pipeline.files.writer (no generator needed).

People (SSN on the SSA master): ANNA SMITH 123456781 (KS NP, MO NP with FV), JOHN DOE 223456782 (KS NP,
SSN sent transposed → C), MARY JONES 323456783 (KS CP, no SSN → P), PETER PAN 423456784 (MO NP, not on
any NDNH file), ZED UNKNOWN (KS NP, SSN not on master → HOLDS). NDNH: W-4s for ANNA and JOHN, a QW for
ANNA, a UI for JOHN, one W-4 with an SSN that is not on the master (unverified).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import yaml

from pipeline.files.layouts import load_layout
from pipeline.files.writer import fixed_bytes

AS_OF = "2026-11-02"
PARTNERS = {
    "partners": [
        {"id": "KS", "kind": "state", "file_types": ["fcr_input", "offset_debtor"]},
        {"id": "MO", "kind": "state", "file_types": ["fcr_input"]},
        {"id": "SSA", "kind": "ssa", "file_types": ["ssa_master"]},
        {"id": "SDNH-KS", "kind": "sdnh", "file_types": ["ndnh_w4", "new_hire_csv"]},
        {"id": "SWA-MO", "kind": "swa", "file_types": ["ndnh_qw", "ndnh_ui"]},
    ]
}

MASTER = [
    ("123456781", "ANNA", "SMITH", "19850102"),
    ("223456782", "JOHN", "DOE", "19800505"),
    ("323456783", "MARY", "JONES", "19900303"),
    ("423456784", "PETER", "PAN", "19700707"),
]


def _df(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={k: pl.Utf8 for k in rows[0]}) if rows else pl.DataFrame()


def ssa_file(master: list[tuple[str, str, str, str]] = MASTER) -> bytes:
    recs = [
        {"ssn": s, "first_name": f, "last_name": ln, "dob": d, "sex": "F" if f in ("ANNA", "MARY") else "M"}
        for s, f, ln, d in master
    ]
    return fixed_bytes(
        load_layout("ssa_master"),
        [
            ("MH", _df([{"date_stamp": "20261101", "batch_number": "000001"}])),
            ("MR", _df(recs)),
            ("MT", _df([{"record_count": str(len(recs))}])),
        ],
    )


def fcr_file(state: str, cases: list[dict], persons: list[dict], batch: str = "000001") -> bytes:
    return fixed_bytes(
        load_layout("fcr_input"),
        [
            ("FH", _df([{"submitting_state": state, "date_stamp": "20261101", "batch_number": batch}])),
            ("FC", _df(cases)),
            ("FP", _df(persons)),
            ("FZ", _df([{"case_count": str(len(cases)), "person_count": str(len(persons))}])),
        ],
    )


def person(action, case, ptype, member, ssn, first, last, dob, fv=None, **extra) -> dict:
    row = {
        "action_type": action,
        "case_id": case,
        "participant_type": ptype,
        "member_id": member,
        "ssn": ssn,
        "first_name": first,
        "last_name": last,
        "dob": dob,
        "family_violence": fv,
    }
    return {**row, **extra}


def ks_fcr() -> bytes:
    cases = [
        {"action_type": "A", "case_id": "KSCASE1", "case_type": "F", "order_indicator": "Y"},
        {"action_type": "A", "case_id": "KSCASE2", "case_type": "F", "order_indicator": "N"},
        {"action_type": "C", "case_id": "KSNOCASE", "case_type": "F", "order_indicator": "N"},
    ]
    persons = [
        person("A", "KSCASE1", "NP", "KSM1", "123456781", "ANNA", "SMITH", "19850102"),
        person("A", "KSCASE1", "CP", "KSM2", None, "MARY", "JONES", "19900303"),
        person("A", "KSCASE2", "NP", "KSM3", "224356782", "JOHN", "DOE", "19800505"),
        person("A", "KSCASE2", "CP", "KSM4", "999887777", "ZED", "UNKNOWN", "19600101"),
        person("A", "KSNOCASE", "NP", "KSM5", "423456784", "PETER", "PAN", "19700707"),
    ]
    return fcr_file("KS", cases, persons)


def mo_fcr() -> bytes:
    cases = [{"action_type": "A", "case_id": "MOCASE1", "case_type": "F", "order_indicator": "Y"}]
    persons = [
        person("A", "MOCASE1", "NP", "MOM1", "123456781", "ANNA", "SMITH", "19850102", fv="FV"),
        person("A", "MOCASE1", "CP", "MOM2", "423456784", "PETER", "PAN", "19700707"),
        person("L", "MOCASE1", "CP", "MOM2", "423456784", "PETER", "PAN", "19700707", locate_request_type="CS"),
    ]
    return fcr_file("MO", cases, persons)


def w4(ssn, first, last, dob, hire, fein="123456789", employer="ACME WIDGETS") -> dict:
    return {
        "ssn": ssn,
        "first_name": first,
        "last_name": last,
        "address_line_1": "1 MAIN ST",
        "city": "WICHITA",
        "state": "KS",
        "zip": "67202",
        "dob": dob,
        "hire_date": hire,
        "employer_fein": fein,
        "employer_name": employer,
        "employer_city": "TOPEKA",
        "employer_state": "KS",
        "employer_zip": "66601",
    }


def w4_file(state_fips: str = "20", rows: list[dict] | None = None) -> bytes:
    rows = (
        rows
        if rows is not None
        else [
            w4("123456781", "ANNA", "SMITH", "19850102", "20261015"),
            w4("223456782", "JOHN", "DOE", "19800505", "20261020", "987654321", "BOLTS INC"),
            w4("555443333", "NOBODY", "KNOWN", "19750101", "20261021"),
        ]
    )
    return fixed_bytes(
        load_layout("ndnh_w4"),
        [
            ("H4", _df([{"transmitter_state_fips": state_fips, "date_stamp": "20261101", "batch_number": "000007"}])),
            ("W4", _df(rows)),
            ("T4", _df([{"record_count": str(len(rows))}])),
        ],
    )


def qw_file() -> bytes:
    emp = {
        "employer_fein": "123456789",
        "employer_name": "ACME WIDGETS",
        "employer_address_line_1": "2 ELM ST",
        "employer_city": "JOPLIN",
        "employer_state": "MO",
        "employer_zip": "64801",
        "reporting_period": "20263",
    }
    qw = {
        "ssn": "123456781",
        "first_name": "ANNA",
        "last_name": "SMITH",
        "wage_amount": "1234567",
        "reporting_period": "20263",
        "employer_fein": "123456789",
    }
    return fixed_bytes(
        load_layout("ndnh_qw"),
        [
            ("H4", _df([{"transmitter_state_fips": "29", "date_stamp": "20261101", "batch_number": "000003"}])),
            ("E4", _df([emp])),
            ("QW", _df([qw])),
            ("T4", _df([{"employer_count": "1", "employee_count": "1", "wage_total": "1234567"}])),
        ],
    )


def ui_file() -> bytes:
    ui = {
        "ssn": "223456782",
        "first_name": "JOHN",
        "last_name": "DOE",
        "address_line_1": "9 OAK AVE",
        "city": "KANSAS CITY",
        "state": "MO",
        "zip": "64101",
        "benefit_amount": "250000",
        "reporting_period": "20263",
    }
    return fixed_bytes(
        load_layout("ndnh_ui"),
        [
            ("H4", _df([{"transmitter_state_fips": "29", "date_stamp": "20261101", "batch_number": "000004"}])),
            ("UI", _df([ui])),
            ("T4", _df([{"record_count": "1", "benefit_total": "250000"}])),
        ],
    )


def put(home: Path, submitter: str, name: str, data: bytes, done: bool = True) -> Path:
    folder = home / "inbound" / submitter
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    if done:
        (folder / f"{name}.done").write_bytes(b"")
    return folder / name


def build_home(home: Path, bad: bool = True) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "partners.yaml").write_text(yaml.safe_dump(PARTNERS, sort_keys=False))
    put(home, "SSA", "ssa_master_20261101.dat", ssa_file())
    put(home, "KS", "fcr_ks_000001.dat", ks_fcr())
    put(home, "MO", "fcr_mo_000001.dat", mo_fcr())
    put(home, "SDNH-KS", "w4_ks_000007.dat", w4_file())
    put(home, "SWA-MO", "qw_mo_000003.dat", qw_file())
    put(home, "SWA-MO", "ui_mo_000004.dat", ui_file())
    if bad:
        add_bad_files(home)
    return home


def add_bad_files(home: Path) -> None:
    put(home, "SDNH-KS", "empty.dat", b"")
    put(home, "SDNH-KS", "mystery.txt", b"HELLO THIS IS NOT A KNOWN FILE\n")
    put(home, "SDNH-KS", "w4_spoofed.dat", w4_file(state_fips="29"))
    put(home, "SDNH-KS", "w4_truncated.dat", w4_file()[:900])
    put(home, "SDNH-KS", "w4_ks_000007_again.dat", w4_file())
    put(home, "EMP-999999999", "w4_unregistered.dat", w4_file(state_fips=""))
    put(home, "MO", "ssa_master_fake.dat", ssa_file())


def as_of_date() -> date:
    return date.fromisoformat(AS_OF)
