"""EDE documents delivered byte-identical with receipts; IRG versions, show/export, irg_address."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipeline.portal import ede, irg
from tests.pipeline.portal.harness import (
    csv,
    home_with_store,
    manifest,
    receipt,
    run,
    sha,
)

EDE_HEADER = "recipient_state,case_id,document_type,exchange_type,request_ref,document_file,document_sha256,note"
IRG_HEADER = "profile_section,item_kind,name,address_line_1,address_line_2,city,addr_state,zip,phone,email,text"
PDF = b"%PDF-1.4\n\x00\xff binary \r\n bytes\n%%EOF"
AS_OF = date(2026, 11, 2)


def test_ede_request_response_delivered_byte_identical(tmp_path):
    con = home_with_store(tmp_path)
    request = csv(EDE_HEADER, "MO,KS0001,ORDER,REQUEST,,,,PLEASE SEND THE ORDER")
    cyc1, res1, _ = run(con, tmp_path, AS_OF, {"KS": {"EDE1.csv": request}})
    assert (res1.ede_delivered, res1.ede_rejected) == (1, 0)
    assert ede.listing(con, "MO")["exchange_id"].to_list() == ["EDE-000001"]  # MO must answer
    assert ede.listing(con, "OK").is_empty()  # OK sees nothing
    response = csv(
        EDE_HEADER,
        f"KS,KS0001,ORDER,RESPONSE,EDE-000001,ORDER.PDF,{sha(PDF).upper()},",
        f"KS,KS0001,ORDER,RESPONSE,EDE-000099,ORDER.PDF,{sha(PDF).upper()},",
        f"OK,KS0001,NOTICE,UNSOLICITED,,ORDER.PDF,{'0' * 64},",
    )
    cyc2, res2, outs = run(con, tmp_path, date(2026, 11, 3), {"MO": {"EDE2.csv": response, "order.pdf": PDF}})
    assert {o.layout for o in outs} == {"ede_manifest_csv", "portal_document"}
    assert (res2.ede_delivered, res2.ede_rejected) == (1, 2)
    delivered = tmp_path / "outbound" / "KS" / cyc2 / "EDE-000002.MO.order.pdf"
    assert delivered.read_bytes() == PDF
    entry = next(f for f in manifest(tmp_path, "KS", cyc2)["files"] if f["name"] == delivered.name)
    assert entry["sha256"] == sha(PDF)
    sent = receipt(tmp_path, "MO", cyc2)
    assert sha(PDF) in sent and "EDE_BAD_REQUEST_REF" in sent and "SHA256_MISMATCH" in sent
    assert "EDE_RECEIVED" in receipt(tmp_path, "KS", cyc2)
    assert not (tmp_path / "outbound" / "OK" / cyc2).exists()  # nothing reached OK
    assert ede.listing(con, "MO").is_empty() and ede.listing(con, "KS").is_empty()  # request answered
    log = con.execute("SELECT recipient, file_name FROM disclosures WHERE layout = 'ede_document'").fetchall()
    assert log == [("KS", delivered.name)]


def _profile(city: str) -> bytes:
    return csv(
        IRG_HEADER,
        "ADDRESS,GENERAL,KS CSS,PO BOX 497,,TOPEKA,KS,66601,,,",
        f"ADDRESS,ENFORCEMENT,KS INTERSTATE,PO BOX 758599,,{city},KS,66675,,,",
        "CONTACT,QUICK,JANE ROE,,,,,,7855551234,JANE.ROE@KS.GOV,",
        "POLICY,FEES,,,,,,,,,NO APPLICATION FEE FOR INTERSTATE CASES",
    )


def test_irg_versions_show_export_and_address(tmp_path):
    con = home_with_store(tmp_path)
    run(con, tmp_path, AS_OF, {"KS": {"IRG.csv": _profile("TOPEKA")}})
    cyc2, res, _ = run(con, tmp_path, date(2026, 11, 3), {"KS": {"IRG.csv": _profile("WICHITA")}})
    assert res.irg_versions == 1
    assert irg.versions(con, "KS")["version"].to_list() == [1, 2]
    assert irg.profile(con, "KS", 1).filter(pl.col("item_kind") == "ENFORCEMENT")["city"].to_list() == ["TOPEKA"]
    assert irg_address_city(con, "ENFORCEMENT") == "WICHITA"
    assert irg_address_city(con, "PATERNITY") == "TOPEKA"  # falls back to GENERAL
    assert irg.irg_address(con, "MO", "GENERAL") is None
    assert irg.export_csv(con, "KS", tmp_path / "ks.csv") == 4
    bad = csv(IRG_HEADER, "ADDRESS,ENFORCEMENT,KS,PO BOX 1,,,KS,66675,,,")
    cyc3, res3, _ = run(con, tmp_path, date(2026, 11, 4), {"KS": {"IRG.csv": bad}})
    assert res3.irg_versions == 0 and irg.latest_version(con, "KS") == 2
    text = receipt(tmp_path, "KS", cyc3)
    assert "IRG_ADDRESS_INCOMPLETE" in text and "IRG_NO_GENERAL_ADDRESS" in text


def irg_address_city(con, kind: str) -> str:
    return irg.irg_address(con, "KS", kind)["city"]
