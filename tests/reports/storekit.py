"""A small hand-built store with two cycles and two states whose report numbers are known by heart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipeline import store
from pipeline.enforcement.asap import run_asap
from pipeline.enforcement.asap_settings import StateSettings, parse_settings

C1, C2 = "20260105-01", "20260202-01"
# SSNs that must never appear in full in any report file
SSNS = {"ks_steady": "111223333", "ks_irregular": "111224444", "mo_none": "222335555"}


def _insert(con, table: str, rows: list[dict]) -> None:
    store.insert_frame(con, table, pl.DataFrame(rows, infer_schema_length=None))


def _persons() -> list[dict]:
    s = SSNS

    def p(state, case, member, ptype, ssn, first, last, added):
        return {
            "state": state,
            "case_id": case,
            "member_id": member,
            "participant_type": ptype,
            "status": "active",
            "ssn": ssn,
            "verified_ssn": ssn,
            "validity_code": "V" if ssn else None,
            "first_name": first,
            "last_name": last,
            "added_cycle": added,
            "changed_cycle": added,
        }

    return [
        p("KS", "KSC1", "KSM1", "NP", s["ks_steady"], "ALAN", "STEADY", C1),
        p("KS", "KSC1", "KSM2", "CP", "333440001", "BETH", "STEADY", C1),
        p("KS", "KSC1", "KSM3", "CH", "333440002", "CARL", "STEADY", C1),
        p("KS", "KSC2", "KSM4", "NP", s["ks_irregular"], "DREW", "IRREGULAR", C2),
        p("KS", "KSC4", "KSM4", "NP", s["ks_irregular"], "DREW", "IRREGULAR", C2),
        p("KS", "KSC3", "KSM5", "NP", None, "EVAN", "NOSSN", C2),
        p("MO", "MOC1", "MOM1", "NP", s["mo_none"], "FRED", "NOWAGE", C1),
        {**p("MO", "MOC1", "MOM2", "CP", FV_CP_SSN, "GINA", "NOWAGE", C1), "family_violence": "FV"},
        p("MO", "MOC2", "MOM3", "NP", s["ks_steady"], "ALAN", "STEADY", C1),  # same person as KSM1
    ]


ADDRESSES = {  # W-4 / UI addresses (NDNH), by SSN
    "drew": {"address_line_1": "12 ELM ST", "city": "WICHITA", "state": "KS", "zip": "67202"},
    "shared": {"address_line_1": "99 OAK AVE", "city": "SPRINGFIELD", "state": "MO", "zip": "65801"},
}
FV_CP_SSN = "333440003"  # GINA (MOM2) is flagged FV in MO and lives at the "shared" address


def _addressed() -> list[dict]:
    """A W-4 with DREW's address; a W-4 of ALAN at the address where the FV-protected GINA claims UI."""
    base = {"cycle_id": C2, "received": date(2026, 1, 20)}
    return [
        {
            **base,
            "ndnh_id": 101,
            "source": "H99",
            "ssn": SSNS["ks_irregular"],
            "verified_ssn": SSNS["ks_irregular"],
            "hire_date": date(2026, 1, 12),
            "employer_fein": "480000002",
            **ADDRESSES["drew"],
        },
        {
            **base,
            "ndnh_id": 102,
            "source": "H99",
            "ssn": SSNS["ks_steady"],
            "verified_ssn": SSNS["ks_steady"],
            "hire_date": date(2026, 1, 5),
            "employer_fein": "480000001",
            **ADDRESSES["shared"],
        },
        {
            **base,
            "ndnh_id": 103,
            "source": "H97",
            "ssn": FV_CP_SSN,
            "verified_ssn": FV_CP_SSN,
            "reporting_period": "20254",
            "benefit_amount": 90000,
            **ADDRESSES["shared"],
        },
    ]


def _ndnh() -> list[dict]:
    rows, n = [], 0
    for cycle, period, ssn, cents in [
        (C1, "20252", SSNS["ks_steady"], 500000),
        (C1, "20253", SSNS["ks_steady"], 500000),
        (C2, "20254", SSNS["ks_steady"], 500000),
        (C1, "20253", SSNS["ks_irregular"], 100000),
    ]:
        n += 1
        rows.append(
            {
                "ndnh_id": n,
                "cycle_id": cycle,
                "source": "H98",
                "ssn": ssn,
                "verified_ssn": ssn,
                "reporting_period": period,
                "wage_amount": cents,
                "employer_fein": "480000001",
                "state": "KS",
            }
        )
    return rows + _addressed()


def _case_financial() -> list[dict]:
    def cf(cycle, fid, line, state, case, member, ssn, first, last, arrears, last_pay, as_of):
        return {
            "cycle_id": cycle,
            "file_id": fid,
            "line_no": line,
            "state": state,
            "case_id": case,
            "member_id": member,
            "ncp_ssn": ssn,
            "ncp_first_name": first,
            "ncp_last_name": last,
            "case_type": "N",
            "monthly_obligation": 30000,
            "arrears": arrears,
            "last_payment_date": last_pay,
            "last_payment_amount": 30000 if last_pay else None,
            "as_of_date": as_of,
        }

    d1, d2 = date(2026, 1, 5), date(2026, 2, 2)
    s = SSNS
    return [
        cf(C1, 5, 1, "KS", "KSC1", "KSM1", s["ks_steady"], "ALAN", "STEADY", 50000, date(2025, 12, 20), d1),
        cf(C2, 15, 1, "KS", "KSC1", "KSM1", s["ks_steady"], "ALAN", "STEADY", 50000, date(2025, 12, 20), d2),  # alert
        cf(C2, 15, 2, "KS", "KSC2", "KSM4", s["ks_irregular"], "DREW", "IRREGULAR", 400000, None, d2),  # ASAP
        cf(C2, 15, 3, "KS", "KSC4", "KSM4", s["ks_irregular"], "DREW", "IRREGULAR", 20000, None, d2),  # ASAP
        cf(C2, 15, 4, "KS", "KSC3", "KSM5", None, "EVAN", "NOSSN", 100000, date(2025, 11, 1), d2),  # ASAP
        cf(C2, 16, 1, "MO", "MOC1", "MOM1", s["mo_none"], "FRED", "NOWAGE", 0, date(2026, 1, 20), d2),
        cf(C2, 16, 2, "MO", "MOC2", "MOM3", s["ks_steady"], "ALAN", "STEADY", 300000, date(2025, 10, 1), d2),  # ASAP
    ]


def _ledger() -> list[dict]:
    def f(fid, cycle, submitter, layout, status, records, rejected):
        return {
            "file_id": fid,
            "cycle_id": cycle,
            "submitter": submitter,
            "file_name": f"F{fid}",
            "layout": layout,
            "status": status,
            "records": records,
            "accepted": records - rejected if status == "loaded" else 0,
            "rejected": rejected,
            "processed": True,
        }

    return [
        f(1, C1, "KS", "fcr_input", "loaded", 6, 0),
        f(5, C1, "KS", "case_financial_csv", "loaded", 1, 0),
        f(11, C2, "KS", "fcr_input", "loaded", 10, 1),
        f(12, C2, "SWA-KS", "ndnh_qw", "loaded", 100, 2),
        f(13, C2, "EMP-1", "ndnh_w4", "rejected", 5, 5),
        f(14, C2, "MO", "fcr_input", "loaded", 4, 0),
        f(15, C2, "KS", "case_financial_csv", "loaded", 4, 0),
        f(16, C2, "MO", "case_financial_csv", "loaded", 2, 0),
    ]


def settings(state: str, weekly: int = 5) -> StateSettings:
    data = {
        "state": state,
        "agency": f"{state} Child Support Services",
        "office": {
            "name": "Early Intervention Unit",
            "address_line_1": "100 MAIN ST",
            "city": "CAPITAL",
            "state": state,
            "zip": "66000",
        },
        "toll_free": "1-888-555-01" + {"KS": "20", "MO": "29"}.get(state, "00"),
        "hours": "Monday to Friday, 8 a.m. to 5 p.m.",
        "asap": {"weekly_letters": weekly},
    }
    return parse_settings(data, Path(f"{state}.yaml"))


def _payments_and_contacts() -> tuple[list[dict], list[dict]]:
    pay = [
        {
            "cycle_id": C2,
            "state": "MO",
            "case_id": "MOC1",
            "member_id": "MOM1",
            "payment_date": date(2026, 1, 20),
            "amount": 30000,
            "payment_source": "IWO",
        },
    ]
    contacts = [
        {
            "cycle_id": C2,
            "state": "KS",
            "case_id": "KSC1",
            "member_id": "KSM1",
            "contact_date": date(2026, 1, 28),
            "outcome": "CALL",
        },
    ]
    return pay, contacts


def build_small_store(home: Path, asap: bool = True) -> duckdb.DuckDBPyConnection:
    home.mkdir(parents=True, exist_ok=True)
    con = store.connect(home)
    _insert(
        con,
        "cycles",
        [
            {"cycle_id": C1, "as_of": date(2026, 1, 5), "seq": 1, "status": "done"},
            {"cycle_id": C2, "as_of": date(2026, 2, 2), "seq": 1, "status": "done"},
        ],
    )
    _insert(
        con,
        "partners",
        [
            {"partner_id": p, "kind": k}
            for p, k in [("KS", "state"), ("MO", "state"), ("SWA-KS", "swa"), ("EMP-1", "employer")]
        ],
    )
    _insert(con, "fcr_persons", _persons())
    _insert(
        con,
        "fcr_person_input",
        [
            {"cycle_id": c, "state": "KS", "action_type": a}
            for c, a in [(C1, "A"), (C1, "A"), (C1, "A"), (C2, "A"), (C2, "A"), (C2, "L")]
        ]
        + [{"cycle_id": C1, "state": "MO", "action_type": "A"}],
    )
    _insert(
        con,
        "ssn_validity_history",
        [
            {"cycle_id": C2, "state": "KS", "member_id": "KSM4", "validity_code": "V"},
            {"cycle_id": C2, "state": "KS", "member_id": "KSM5", "validity_code": ""},
        ],
    )
    _insert(con, "ndnh", _ndnh())
    _insert(
        con,
        "matches",
        [
            {"cycle_id": C2, "state": "KS", "case_id": "KSC2", "member_id": "KSM4", "match_type": "L", "source": "H98"},
            {"cycle_id": C2, "state": "KS", "case_id": "KSC1", "member_id": "KSM1", "match_type": "P", "source": "H98"},
            {"cycle_id": C2, "state": "MO", "case_id": "MOC1", "member_id": "MOM1", "match_type": "N", "source": "H99"},
        ],
    )
    _insert(
        con,
        "locate_requests",
        [
            {"cycle_id": C2, "state": "KS", "case_id": "KSC2", "member_id": "KSM4"},
            {"cycle_id": C2, "state": "KS", "case_id": "KSC3", "member_id": "KSM5"},
        ],
    )
    _insert(con, "file_ledger", _ledger())
    _insert(
        con,
        "rejects",
        [
            {"file_id": 11, "line": 3, "code": "BAD_DATE", "severity": "E"},
            {"file_id": 12, "line": 7, "code": "REQUIRED", "severity": "E"},
            {"file_id": 12, "line": 9, "code": "REQUIRED", "severity": "E"},
            {"file_id": 13, "line": 1, "code": "HEADER_INVALID", "severity": "E"},
        ],
    )
    _insert(con, "case_financial", _case_financial())
    pay, contacts = _payments_and_contacts()
    _insert(con, "payments", pay)
    _insert(con, "contact_outcomes", contacts)
    if asap:  # the enforcement stage's early-intervention program, as the cycle runs it for C2
        with store.transaction(con):
            run_asap(con, C2, date(2026, 2, 2), {st: settings(st) for st in ("KS", "MO")})
    return con
