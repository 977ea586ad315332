"""Family violence on every response and notice type (DESIGN §8): a person flagged FV by one state never has
address or employer data sent to another state, in an FN record, an eTermination or a Debt Inquiry notice,
an insurance match; the record says the data was withheld.

The builder's ANNA SMITH (123456781) is registered by KS and, flagged FV, by MO. Here KS also certifies her
as a debtor, and her employer (FEIN 123456789, which hired her on a W-4) sends a Debt Inquiry lump-sum notice
and a termination notice for her: KS gets FN, ET and DI records about her, each with the data withheld."""

from __future__ import annotations

import json

import polars as pl
import pytest
import yaml

from pipeline.cycle.disclose import file_disclosures
from pipeline.files.decode import decode_file
from pipeline.files.layouts import load_layout
from tests.pipeline.cycle.builder import PARTNERS, build_home, put
from tests.pipeline.cycle.conftest import run_home
from tests.pipeline.enforcement.make_cases import debtor_file
from tests.support import csv_text

ANNA = "123456781"
EMPLOYER = "EMP-123456789"
WITHHELD = {"address", "employer"}
# The MSFIDM response names the institution holding the debtor's account: the levy the state asked for,
# neither an address nor an employer (its institution_* fields share the log's "employer" category).
NOT_ADDRESS_OR_EMPLOYER = {"msfidm_response", "msfidm_inquiry", "passport_denial"}


@pytest.fixture(scope="module")
def fv_home(tmp_path_factory):
    home = build_home(tmp_path_factory.mktemp("fv") / "home", bad=False)
    partners = {"partners": [*PARTNERS["partners"]]}
    partners["partners"].append(
        {"id": EMPLOYER, "kind": "employer", "file_types": ["debt_inquiry", "etermination", "ndnh_w4"]}
    )
    (home / "partners.yaml").write_text(yaml.safe_dump(partners, sort_keys=False))
    debtor = {"t": "A", "ssn": ANNA, "last": "SMITH", "first": "ANNA", "amt": "9000", "type": "N", "case": "KSCASE1"}
    put(home, "KS", "offset_ks.dat", debtor_file([debtor]))
    person = {"ssn": ANNA, "first_name": "ANNA", "last_name": "SMITH", "dob": "19850102"}
    di = {
        "payer_type": "EMP",
        "payer_id": "123456789",
        "payer_name": "ACME WIDGETS",
        "contact_name": "PAT PAYROLL",
        "contact_phone": "3165550100",
        "payment_type": "BON",
        "amount": "250000",
        "payout_date": "20261120",
        **person,
    }
    et = {
        "employer_fein": "123456789",
        "employer_name": "ACME WIDGETS",
        "contact_name": "PAT PAYROLL",
        "contact_phone": "3165550100",
        "termination_reason": "T",
        "termination_date": "20261030",
        "notice_date": "20261101",
        **person,
    }
    put(home, EMPLOYER, f"DEBTINQ.{EMPLOYER}.20261102.001.csv", csv_text(load_layout("debt_inquiry"), [di]).encode())
    put(home, EMPLOYER, f"ETERM.{EMPLOYER}.20261102.001.csv", csv_text(load_layout("etermination"), [et]).encode())
    proc = run_home(home)
    assert proc.returncode == 0, proc.stderr
    return home


def _outbound(home) -> list[tuple[str, str, object]]:
    out = []
    for manifest in sorted((home / "outbound").glob("*/*/manifest.json")):
        for entry in json.loads(manifest.read_text())["files"]:
            out.append((manifest.parent.parent.name, entry["layout"], manifest.parent / entry["name"]))
    return out


def test_every_notice_type_about_her_reaches_ks(fv_home):
    layouts = {
        layout
        for recipient, layout, path in _outbound(fv_home)
        if recipient == "KS" and file_disclosures(path, layout).filter(pl.col("person_key") == ANNA).height
    }
    assert {"fcr_response", "enforcement_notice"} <= layouts, layouts


def test_no_address_or_employer_of_an_fv_person_reaches_another_state(fv_home):
    leaked = []
    for recipient, layout, path in _outbound(fv_home):
        if recipient == "MO" or layout in NOT_ADDRESS_OR_EMPLOYER:
            continue
        rows = file_disclosures(path, layout).filter(pl.col("person_key") == ANNA)
        for row in rows.iter_rows(named=True):
            if WITHHELD & set(row["categories"]):
                leaked.append((recipient, path.name, row["record_type"], row["categories"]))
    assert not leaked, leaked


def test_the_debt_inquiry_notice_says_the_payer_was_withheld(fv_home):
    path = next(p for r, layout, p in _outbound(fv_home) if r == "KS" and layout == "enforcement_notice")
    di = decode_file(path, load_layout("enforcement_notice"), "DI").filter(pl.col("ssn") == ANNA)
    assert di.height == 1
    row = di.row(0, named=True)
    assert row["data_withheld"] == "Y"
    assert not any(row[c] for c in ("payer_type", "payer_id", "payer_name", "contact_name", "contact_phone"))
    assert row["amount"] and row["payment_type"] == "BON"  # the debt facts still go to the state
