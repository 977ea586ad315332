"""A two-cycle e-IWO home on top of the cycle builder's (tests/pipeline/cycle/builder.py).

People: ANNA SMITH 123456781 (KS NP, MO NP flagged FV by MO; W-4 at ACME 123456789), JOHN DOE 223456782 (KS NP;
W-4 at BOLTS 987654321), PETER PAN 423456784 (no W-4 anywhere). BOLTS registers through MSER and names payroll
processor 555666777 as the primary EIN that receives its orders (system to system); ACME takes the No
Programming Option.

Cycle 1 (2026-11-02), KS fixed-width order file (batch / line / expected result):
  batch 1 (ACME):  KS-T1 ORG ANNA → SENT · KS-T2 ORG ANNA same case → DUPLICATE_IWO · KS-T5 ORG PETER → SENT ·
                   malformed total amount → REJECTED BAD_NUMBER
  batch 2 (BOLTS): KS-T3 ORG JOHN → SENT to 555666777 · KS-T4 FEIN 111222333 → UNKNOWN_FEIN ·
                   KS-T1 again → DUPLICATE_TRACKING_ID
  batch 3 (BOLTS): KS-T6, trailer says 2 orders → BATCH_CONTROL
MO CSV: MO-T1 ORG ANNA at ACME → SENT · a row naming issuing state KS → STATE_MISMATCH. KS certifies ANNA for offset.
Cycle 2 (2026-11-09): acknowledgments from 555666777 (fixed: KS-T3 R/N, KS-T99 never sent → ORDER_NOT_FOUND) and
ACME (CSV: KS-T1 A, MO-T1 R/M other state KS, KS-T3 → NOT_RECIPIENT); ACME's eTermination "never employed" for
PETER; a W-4 hiring ANNA at BOLTS; ACME's Debt Inquiry lump sum for ANNA.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import yaml

from pipeline.files.layouts import load_layout
from pipeline.files.writer import csv_bytes, fixed_bytes
from tests.pipeline.cycle.builder import PARTNERS, build_home, put, w4, w4_file
from tests.pipeline.enforcement.make_cases import debtor_file

CYCLE1, CYCLE2 = "2026-11-02", "2026-11-09"
ACME, BOLTS, PROCESSOR, UNKNOWN = "123456789", "987654321", "555666777", "111222333"
ANNA = ("123456781", "ANNA", "SMITH")
JOHN = ("223456782", "JOHN", "DOE")
PETER = ("423456784", "PETER", "PAN")
EMPLOYERS = {ACME: "ACME WIDGETS", BOLTS: "BOLTS INC", UNKNOWN: "NOBODY KNOWS LLC"}


def order(tracking: str, who: tuple, fein: str, case: str = "KSCASE1", state: str = "KANSAS", **extra) -> dict:
    ssn, first, last = who
    row = {
        "document_action_code": "ORG",
        "document_date": "20261101",
        "issuing_state_name": state,
        "case_id": case,
        "employer_name": EMPLOYERS[fein],
        "employer_address_line_1": "1 MAIN ST",
        "employer_fein": fein,
        "employee_last_name": last,
        "employee_first_name": first,
        "employee_ssn": ssn,
        "document_tracking_id": tracking,
        "current_support_amount": "40000",
        "current_support_frequency": "M",
        "total_amount": "40000",
        "total_frequency": "M",
        "monthly_amount": "40000",
        "payee_name": "KANSAS PAYMENT CENTER",
        "remittance_id": f"R{tracking}",
    }
    return row | extra


def _df(rows: list[dict]) -> pl.DataFrame:
    cols = sorted({k for r in rows for k in r})
    return pl.DataFrame([{c: r.get(c) for c in cols} for r in rows], schema={c: pl.Utf8 for c in cols})


def order_file(batches: list[tuple[str, list[dict], int | None]], fips: str = "20") -> bytes:
    """FHI, per batch BHI + DTL + BTI (count = given or the real one), FTI."""
    head = {"control_number": f"{fips}000FILE0001", "state_fips": fips, "creation_date": "20261101"}
    blocks = [("FHI", _df([head]))]
    total = 0
    for n, (fein, rows, count) in enumerate(batches, 1):
        control = f"{fips}000BATCH{n:04d}"
        blocks.append(
            ("BHI", _df([{"control_number": control, "state_fips": fips, "ein": fein, "creation_date": "20261101"}]))
        )
        blocks.append(("DTL", _df(rows)))
        blocks.append(
            ("BTI", _df([{"control_number": control, "record_count": str(count if count is not None else len(rows))}]))
        )
        total += len(rows)
    blocks.append(
        (
            "FTI",
            _df(
                [
                    {
                        "control_number": head["control_number"],
                        "batch_count": str(len(batches)),
                        "record_count": str(total),
                    }
                ]
            ),
        )
    )
    return fixed_bytes(load_layout("eiwo_order"), blocks)


def ack(
    tracking: str, who: tuple, fein: str, status: str, reason: str | None = None, fips: str = "20", **extra
) -> dict:
    ssn, first, last = who
    row = {
        "document_action_code": "ORG",
        "case_id": "KSCASE1",
        "employer_fein": fein,
        "employee_ssn": ssn,
        "employee_last_name": last,
        "employee_first_name": first,
        "document_tracking_id": tracking,
        "issuing_state_fips": fips,
        "disposition_status": status,
        "disposition_reason": reason,
        "ack_date": "20261106",
    }
    return row | extra


def ack_file(ein: str, rows: list[dict]) -> bytes:
    head = {"control_number": f"{ein}ACK1", "ein": ein, "creation_date": "20261106"}
    return fixed_bytes(
        load_layout("eiwo_ack"),
        [
            ("FHA", _df([head])),
            ("BHA", _df([{"control_number": f"{ein}B1", "state_fips": "20", "ein": ein, "creation_date": "20261106"}])),
            ("ACK", _df(rows)),
            ("BTA", _df([{"control_number": f"{ein}B1", "record_count": str(len(rows))}])),
            (
                "FTA",
                _df([{"control_number": head["control_number"], "batch_count": "1", "record_count": str(len(rows))}]),
            ),
        ],
    )


def csv_file(layout: str, rows: list[dict]) -> bytes:
    return csv_bytes(load_layout(layout), _df(rows))


MSER_BOLTS = {
    "action": "A",
    "employer_fein": BOLTS,
    "employer_name": "BOLTS INC",
    "address_line_1": "5 BOLT WAY",
    "city": "TOPEKA",
    "state": "KS",
    "zip": "66601",
    "reporting_state": "KS",
    "employee_states": "MO OK",
    "iwo_address_line_1": "PO BOX 77",
    "iwo_city": "DALLAS",
    "iwo_state": "TX",
    "iwo_zip": "75201",
    "iwo_recipient_fein": PROCESSOR,
    "eiwo": "Y",
    "debt_inquiry": "Y",
    "medical_insurance": "Y",
    "effective_date": "20261001",
}


def partners() -> list[dict]:
    extra = {
        "KS": ["eiwo_order", "eiwo_order_csv", "offset_debtor"],
        "MO": ["eiwo_order", "eiwo_order_csv"],
        "SDNH-KS": [],
    }
    rows = [dict(p, file_types=p["file_types"] + extra.get(p["id"], [])) for p in PARTNERS["partners"]]
    return rows + [
        {"id": f"EMP-{ACME}", "kind": "employer", "file_types": ["eiwo_ack_csv", "etermination", "debt_inquiry"]},
        {"id": f"EMP-{PROCESSOR}", "kind": "employer", "file_types": ["eiwo_ack"]},
        {"id": f"EMP-{BOLTS}", "kind": "employer", "file_types": ["eiwo_mser_csv", "ndnh_w4"]},
    ]


def cycle_one(home: Path) -> Path:
    build_home(home, bad=False)
    (home / "partners.yaml").write_text(yaml.safe_dump({"partners": partners()}, sort_keys=False))
    ks = order_file(
        [
            (
                ACME,
                [
                    order("KS-T1", ANNA, ACME),
                    order("KS-T2", ANNA, ACME),
                    order("KS-T5", PETER, ACME, case="KSCASE3"),
                    order("KS-T7", JOHN, ACME, case="KSCASE2", total_amount="12A45"),
                ],
                None,
            ),
            (
                BOLTS,
                [
                    order("KS-T3", JOHN, BOLTS, case="KSCASE2"),
                    order("KS-T4", JOHN, UNKNOWN, case="KSCASE2"),
                    order("KS-T1", JOHN, BOLTS, case="KSCASE9"),
                ],
                None,
            ),
            (BOLTS, [order("KS-T6", JOHN, BOLTS, case="KSCASE8")], 2),
        ]
    )
    put(home, "KS", "EIWO.KS.20261101.001.dat", ks)
    mo = [
        order("MO-T1", ANNA, ACME, case="MOCASE1", state="MISSOURI") | {"issuing_state": "MO"},
        order("MO-T2", ANNA, ACME, case="MOCASE1", state="MISSOURI") | {"issuing_state": "KS"},
    ]
    put(home, "MO", "EIWO.MO.20261101.001.csv", csv_file("eiwo_order_csv", mo))
    put(home, f"EMP-{BOLTS}", "MSER.EMP-987654321.csv", csv_file("eiwo_mser_csv", [MSER_BOLTS]))
    put(home, "KS", "offset_ks.dat", debtor_file([{"t": "A", "ssn": ANNA[0], "last": "SMITH", "amt": "3000"}]))
    return home


def cycle_two(home: Path) -> None:
    put(
        home,
        f"EMP-{PROCESSOR}",
        "EIWOACK.555666777.001.dat",
        ack_file(
            PROCESSOR,
            [
                ack("KS-T3", JOHN, BOLTS, "R", "N", case_id="KSCASE2", termination_date="20261031"),
                ack("KS-T99", JOHN, BOLTS, "A", case_id="KSCASE2"),
            ],
        ),
    )
    put(
        home,
        f"EMP-{ACME}",
        "EIWOACK.123456789.001.csv",
        csv_file(
            "eiwo_ack_csv",
            [
                ack("KS-T1", ANNA, ACME, "A"),
                ack("MO-T1", ANNA, ACME, "R", "M", fips="29", case_id="MOCASE1", other_state_fips="20"),
                ack("KS-T3", JOHN, ACME, "A", case_id="KSCASE2"),
            ],
        ),
    )
    eterm = {
        "employer_fein": ACME,
        "employer_name": "ACME WIDGETS",
        "ssn": PETER[0],
        "first_name": "PETER",
        "last_name": "PAN",
        "termination_reason": "N",
        "notice_date": "20261106",
    }
    put(home, f"EMP-{ACME}", "ETERM.123456789.csv", csv_file("etermination", [eterm]))
    lump = {
        "payer_type": "EMP",
        "payer_id": ACME,
        "payer_name": "ACME WIDGETS",
        "ssn": ANNA[0],
        "first_name": "ANNA",
        "last_name": "SMITH",
        "payment_type": "BON",
        "amount": "250000",
        "payout_date": "20261120",
    }
    put(home, f"EMP-{ACME}", "DEBTINQ.123456789.csv", csv_file("debt_inquiry", [lump]))
    hire = w4(ANNA[0], "ANNA", "SMITH", "19850102", "20261105", BOLTS, "BOLTS INC")
    put(home, "SDNH-KS", "w4_ks_000008.dat", w4_file(rows=[hire]))
