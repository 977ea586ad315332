"""End to end: a cycle over the builder home, through the CLI."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import polars as pl
import pytest

from pipeline import store
from pipeline.files.decode import decode_file
from pipeline.files.layouts import load_layout
from pipeline.files.read import detect_layout
from tests.pipeline.cycle.builder import build_home, put, ssa_file, w4_file
from tests.pipeline.cycle.conftest import ROOT, fpls, run_home, tree_bytes

CYCLE = "20261102-01"
FULL_SSNS = ("123456781", "223456782", "224356782", "323456783", "423456784", "999887777", "555443333")
GOLDEN = ROOT / "tests" / "golden" / "cycle"


def _records(path: Path, record: str) -> pl.DataFrame:
    return decode_file(path, record_id=record)


def test_summary_json(reference_home):
    summary = json.loads((reference_home / "run.json").read_text())
    assert summary["cycle_id"] == CYCLE and summary["schema_version"] == 1
    by_partner = {r["partner"]: r for r in summary["partners"]}
    assert by_partner["KS"]["fn"] == 4 and by_partner["MO"]["fn"] == 3
    statuses = {f["file"]: (f["status"], f["codes"]) for f in summary["files"]}
    assert statuses["empty.dat"] == ("rejected", ["EMPTY_FILE"])
    assert statuses["mystery.txt"] == ("rejected", ["UNKNOWN_LAYOUT"])
    assert statuses["w4_spoofed.dat"] == ("rejected", ["TRANSMITTER_MISMATCH"])
    assert statuses["w4_ks_000007_again.dat"] == ("duplicate", ["DUPLICATE_FILE"])
    assert statuses["w4_unregistered.dat"] == ("rejected", ["UNREGISTERED_SUBMITTER"])
    assert statuses["ssa_master_fake.dat"] == ("rejected", ["FILE_TYPE_NOT_ALLOWED"])
    assert statuses["w4_truncated.dat"][0] == "rejected"
    assert statuses["w4_ks_000007.dat"] == ("loaded", [])


def test_fcr_acks_and_validity(reference_home):
    ks = reference_home / "outbound" / "KS" / CYCLE / f"FCRRESP.KS.{CYCLE}.dat"
    fs = {r["member_id"]: r for r in _records(ks, "FS").iter_rows(named=True)}
    assert (fs["KSM1"]["ack_code"], fs["KSM1"]["ssn_validity_code"]) == ("AAAAA", "V")
    assert (fs["KSM2"]["ssn_validity_code"], fs["KSM2"]["provided_corrected_ssn"]) == ("P", "323456783")
    assert (fs["KSM3"]["ssn_validity_code"], fs["KSM3"]["provided_corrected_ssn"]) == ("C", "223456782")
    assert fs["KSM4"]["ack_code"] == "HOLDS" and fs["KSM4"]["ssn_validity_code"] is None
    assert (fs["KSM5"]["ack_code"], fs["KSM5"]["error_code_1"]) == ("REJCT", "LE003")
    fd = {r["case_id"]: r for r in _records(ks, "FD").iter_rows(named=True)}
    assert fd["KSNOCASE"]["error_code_1"] == "PE002" and fd["KSCASE1"]["ack_code"] == "AAAAA"


def test_fn_family_violence_and_locate(reference_home):
    ks = _records(reference_home / "outbound" / "KS" / CYCLE / f"FCRRESP.KS.{CYCLE}.dat", "FN")
    mo = _records(reference_home / "outbound" / "MO" / CYCLE / f"FCRRESP.MO.{CYCLE}.dat", "FN")
    anna_ks = ks.filter(pl.col("member_id") == "KSM1")
    assert anna_ks.height == 2 and set(anna_ks["data_withheld"]) == {"Y"}  # MO flagged FV
    assert anna_ks["employer_name"].is_null().all() and anna_ks["address_line_1"].is_null().all()
    anna_mo = mo.filter(pl.col("member_id") == "MOM1")
    assert anna_mo["employer_name"].to_list() == ["ACME WIDGETS", "ACME WIDGETS"]  # its own FV flag
    assert set(ks["agency_code"]) == {"H97", "H98", "H99"} and set(ks["name_indicator"]) == {"1"}
    peter = mo.filter(pl.col("member_id") == "MOM2")
    assert peter.select("match_type", "agency_code").row(0) == ("L", "H01")
    assert not ks.filter(pl.col("ssn") == "555443333").height  # unverified never matched


def test_r4_and_ack(reference_home):
    folder = reference_home / "outbound" / "SDNH-KS" / CYCLE
    r4 = {r["file_name"]: r for r in _records(folder / f"R4.SDNH-KS.{CYCLE}.dat", "R4").iter_rows(named=True)}
    good = r4["w4_ks_000007.dat"]
    assert (good["received_count"], good["posted_count"], good["posted_unverified_count"]) == (5, 2, 1)
    assert good["batch_number"] == "000007" and r4["w4_ks_000007_again.dat"]["batch_error_code"] == "BDUP"
    af = _records(folder / f"ACK.SDNH-KS.{CYCLE}.dat", "AF")
    assert set(af["file_status"]) == {"ACCEPTED", "REJECTED", "DUPLICATE"}
    ae = _records(folder / f"ACK.SDNH-KS.{CYCLE}.dat", "AE")
    assert ae.height > 0 and "LINE_LENGTH" in set(ae["code"])


def test_every_outbound_file_decodes_and_is_0640(reference_home):
    files = [p for p in (reference_home / "outbound").rglob("*.dat")]
    assert files
    for path in files:
        layout = detect_layout(path)
        assert layout is not None and layout.direction == "outbound", path
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        manifest = json.loads((path.parent / "manifest.json").read_text())
        entry = next(f for f in manifest["files"] if f["name"] == path.name)
        assert sum(entry["records"].values()) == len(path.read_bytes().splitlines())
        for record in layout.records:
            decode_file(path, layout, record.id)
    proc = fpls("read", str(files[0]), check=True)
    assert proc.returncode == 0


def test_originals_kept_byte_for_byte(reference_home, tmp_path):
    fresh = build_home(tmp_path / "fresh")
    originals = {
        str(p.relative_to(fresh / "inbound")): p.read_bytes()
        for p in (fresh / "inbound").rglob("*")
        if p.is_file() and not p.name.endswith(".done")
    }
    kept = {}
    for area in ("archive", "quarantine"):
        for p in (reference_home / area / CYCLE).rglob("*"):
            if p.is_file() and not p.name.endswith(".reason.json"):
                kept[str(p.relative_to(reference_home / area / CYCLE))] = p.read_bytes()
    assert kept == originals
    assert not any((reference_home / "inbound").rglob("*.dat"))
    reasons = list((reference_home / "quarantine").rglob("*.reason.json"))
    assert len(reasons) == 7 and all(json.loads(r.read_text())["codes"] for r in reasons)


def test_no_full_ssn_outside_the_store(reference_home):
    texts = [(reference_home / "run.stderr").read_text(), (reference_home / "run.json").read_text()]
    texts += [p.read_text() for p in (reference_home / "logs").glob("*.jsonl")]
    texts += [p.read_text() for p in (reference_home / "quarantine").rglob("*.reason.json")]
    for text in texts:
        for ssn in FULL_SSNS:
            assert ssn not in text


def test_golden_ks_response(reference_home):
    path = reference_home / "outbound" / "KS" / CYCLE / f"FCRRESP.KS.{CYCLE}.dat"
    golden = GOLDEN / "FCRRESP.KS.dat"
    if os.environ.get("UPDATE_GOLDEN") or not golden.exists():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(path.read_bytes())
    assert path.read_bytes() == golden.read_bytes()
    assert all(len(line) == load_layout("fcr_response").record_length for line in path.read_bytes().splitlines())


def test_reproducible(reference_home, tmp_path):
    home = build_home(tmp_path / "again")
    assert run_home(home).returncode == 0
    assert tree_bytes(home / "outbound") == tree_bytes(reference_home / "outbound")


def test_query_person_masked(reference_home):
    out = fpls("query", "person", "--home", str(reference_home), "--ssn", "123456781", check=True).stdout
    assert "KS case KSCASE1" in out and "MO case MOCASE1" in out and "123456781" not in out
    assert "***-**-6781" in out
    shown = fpls("query", "person", "--home", str(reference_home), "--member", "KSM3", "--show-ssn", check=True).stdout
    assert "223456782" in shown and "validity C" in shown


def test_second_cycle_holds_and_never_twice(tmp_path):
    home = build_home(tmp_path / "h", bad=False)
    assert run_home(home).returncode == 0
    put(home, "SSA", "ssa_master_20261102.dat", ssa_file([("999887777", "ZED", "UNKNOWN", "19600101")]))
    put(home, "SDNH-KS", "w4_ks_000008.dat", w4_file().replace(b"000007", b"000008", 1))
    proc = run_home(home, None, "2026-11-03")
    assert proc.returncode == 0, proc.stderr
    resp = home / "outbound" / "KS" / "20261103-01" / "FCRRESP.KS.20261103-01.dat"
    fs = _records(resp, "FS")
    assert fs.select("member_id", "ack_code", "ssn_validity_code").rows() == [("KSM4", "AAAAA", "V")]
    assert _records(resp, "FN").height == 0  # same facts: never twice
    assert not (home / "outbound" / "MO" / "20261103-01").exists()


def test_lock_busy(tmp_path):
    import fcntl

    home = build_home(tmp_path / "h", bad=False)
    fd = os.open(home / "fpls.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        proc = run_home(home)
    finally:
        os.close(fd)
    assert proc.returncode == 75 and "lock" in proc.stderr


def test_store_schema_versioned(reference_home):
    con = store.connect(reference_home, read_only=True)
    try:
        assert store.schema_version(con) == store.SCHEMA_VERSION
        assert con.execute("SELECT count(*) FROM file_ledger WHERE NOT processed").fetchone()[0] == 0
        assert con.execute("SELECT sum(records) = sum(accepted) + sum(rejected) FROM file_ledger").fetchone()[0]
        evidence = con.execute("SELECT evidence FROM matches WHERE ndnh_id IS NOT NULL").fetchall()
        assert evidence and all(json.loads(e[0])["rule"] == "verified_ssn_exact" for e in evidence)
    finally:
        con.close()


@pytest.mark.parametrize("name", ["nothing"])
def test_nothing_ready(tmp_path, name):
    proc = fpls("run", "--home", str(tmp_path / name), "--json", check=True)
    assert json.loads(proc.stdout)["cycle"] is None
    assert re.search(r"schema_version", proc.stdout)
