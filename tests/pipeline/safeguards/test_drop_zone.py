"""Fault campaign, the drop zone's side: hostile or broken entries in inbound/ (symlinks, folders, pipes, names
too long, files fpls cannot read), uploads still in progress, duplicates, a CSV in another sender's folder,
and work/ left behind by a store restored from a backup.

Expected every time: the bad entry is refused with a reason (ledger row, ACK, quarantine + reason file), it
is never followed or read, and every other partner's file is processed as if it were not there."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import time
from datetime import date

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import store
from pipeline.cycle import dropzone, inbound
from tests.pipeline.cycle.builder import PARTNERS, build_home, put, w4, w4_file
from tests.pipeline.cycle.conftest import query_store, run_home, tree_bytes
from tests.pipeline.safeguards.test_faults import CYCLES, assert_same_home, second_drop
from tests.support import csv_text

CYCLE = "20261102-01"
EXAMPLES = int(os.environ.get("FPLS_SOAK_EXAMPLES", "3"))  # `make soak` raises it


def _ledger(home, name: str) -> dict:
    rows = query_store(
        home, "SELECT status, reason_codes, sha256, records FROM file_ledger WHERE file_name = ?", [name]
    ).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def _others_loaded(home, reference_home) -> None:
    sql = "SELECT submitter, file_name, status, records, accepted FROM file_ledger ORDER BY file_name"
    want = query_store(reference_home, sql)
    got = query_store(home, sql).join(want.select("file_name"), on="file_name", how="semi")
    assert got.equals(want), "another partner's file was held up or changed"
    for table in ("fcr_persons", "ndnh", "matches"):
        n = f"SELECT count(*) FROM {table}"
        assert query_store(home, n).item() == query_store(reference_home, n).item(), table


def test_symlink_is_refused_never_followed_nor_chmoded(reference_home, tmp_path):
    home = build_home(tmp_path / "home")
    secret = tmp_path / "outside" / "operator.key"
    secret.parent.mkdir()
    secret.write_bytes(w4_file().replace(b"000007", b"000099", 1))  # a loadable W-4 outside the drop zone
    os.chmod(secret, 0o600)
    link = home / "inbound" / "SDNH-KS" / "w4_link.dat"
    link.symlink_to(secret)
    (home / "inbound" / "SDNH-KS" / "w4_link.dat.done").write_bytes(b"")
    proc = run_home(home)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600, "the link's target was chmod'ed"
    row = _ledger(home, "w4_link.dat")
    assert row["status"] == "rejected" and row["reason_codes"] == ["ENTRY_IS_SYMLINK"] and row["sha256"] == ""
    moved = home / "quarantine" / CYCLE / "SDNH-KS" / "w4_link.dat"
    assert moved.is_symlink() and os.readlink(moved) == str(secret)
    reason = json.loads((moved.parent / "w4_link.dat.reason.json").read_text())
    assert reason["codes"] == ["ENTRY_IS_SYMLINK"]
    secret_sha = hashlib.sha256(secret.read_bytes()).hexdigest()
    assert secret_sha not in "".join(p.read_text() for p in (home / "outbound").rglob("*.dat"))
    _others_loaded(home, reference_home)


def test_folder_pipe_and_symlinked_submitter_folder_are_refused(reference_home, tmp_path):
    home = build_home(tmp_path / "home")
    (home / "inbound" / "KS" / "a_folder").mkdir()
    (home / "inbound" / "KS" / "a_folder" / "inside.dat").write_bytes(w4_file())
    os.mkfifo(home / "inbound" / "MO" / "a_pipe")  # opening it would block the cycle forever
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "w4.dat").write_bytes(w4_file())
    (home / "inbound" / "SDNH-XX").symlink_to(elsewhere, target_is_directory=True)
    proc = run_home(home)
    assert proc.returncode == 0, proc.stderr
    assert _ledger(home, "a_folder")["reason_codes"] == ["ENTRY_NOT_A_FILE"]
    assert _ledger(home, "a_pipe")["reason_codes"] == ["ENTRY_NOT_A_FILE"]
    assert (home / "quarantine" / CYCLE / "KS" / "a_folder" / "inside.dat").exists()
    assert (elsewhere / "w4.dat").exists(), "a symlinked submitter folder was followed"
    _others_loaded(home, reference_home)


def test_a_name_too_long_is_refused_and_the_cycle_goes_on(reference_home, tmp_path):
    home = build_home(tmp_path / "home")
    long_name = "W4_" + "X" * 236 + ".dat"
    put(home, "SDNH-KS", long_name, w4_file())
    proc = run_home(home)
    assert proc.returncode == 0, proc.stderr
    assert _ledger(home, long_name)["reason_codes"] == ["FILE_NAME_REFUSED"]
    folder = home / "quarantine" / CYCLE / "SDNH-KS"
    assert (folder / long_name).exists()
    assert [p.name for p in folder.glob("W4_*.reason.json")], "no reason file for the long name"
    assert not list((home / "work").rglob("*")), "something stayed in work/"
    _others_loaded(home, reference_home)
    assert run_home(home).returncode == 0  # and the next run has nothing left over


def test_a_file_fpls_cannot_read_is_refused_and_the_cycle_goes_on(reference_home, tmp_path, monkeypatch):
    """As root nothing is unreadable, so the permission check is made to fail for that one file."""
    from pipeline.cycle import load as load_module
    from pipeline.cycle import run as cycle

    home = build_home(tmp_path / "home")
    locked = put(home, "SWA-MO", "qw_locked.dat", b"QW" * 500 + b"\n")
    os.chmod(locked, 0o000)
    if os.geteuid() == 0:
        real_readable, real_digests = dropzone._readable, load_module.file_digests
        monkeypatch.setattr(dropzone, "_readable", lambda p: p.name != locked.name and real_readable(p))

        def digests(path):
            if path.name == locked.name:
                raise PermissionError(13, "Permission denied")
            return real_digests(path)

        monkeypatch.setattr(load_module, "file_digests", digests)
    monkeypatch.setattr(cycle, "POLL_SECONDS", 0)
    summary = cycle.run_cycle(home, date.fromisoformat("2026-11-02"))
    assert summary is not None
    assert _ledger(home, "qw_locked.dat")["reason_codes"] == ["FILE_UNREADABLE"]
    assert (home / "quarantine" / CYCLE / "SWA-MO" / "qw_locked.dat.reason.json").exists()
    _others_loaded(home, reference_home)


def _partners(home, **windows) -> None:
    data = {
        "partners": [
            {**p, **({"stable_seconds": windows[p["id"]]} if p["id"] in windows else {})} for p in PARTNERS["partners"]
        ]
    }
    (home / "partners.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_an_upload_without_its_last_terminator_is_never_claimed_on_stability(tmp_path):
    home = build_home(tmp_path / "home", bad=False)
    _partners(home, **{"SDNH-KS": 5})
    data = w4_file(rows=[w4("123456781", "ANNA", "SMITH", "19850102", "20261105")] * 3)
    cut = put(home, "SDNH-KS", "w4_cut.dat", data[: 801 * 2 + 400], done=False)  # mid-record, no trailer
    whole = put(home, "SDNH-KS", "w4_whole.dat", data.replace(b"000007", b"000009", 1), done=False)
    fresh = put(home, "SDNH-KS", "w4_fresh.dat", data.replace(b"000007", b"000010", 1), done=False)
    for path in (cut, whole):
        _age(path, 3600)
    ready = {p.name for p in inbound.ready_files(home / "inbound", 0.0)}
    assert "w4_cut.dat" not in ready
    claimable = {e.path.name for e in inbound.claimable(home, 0.0)}
    assert "w4_whole.dat" in claimable, "a complete file still for longer than the window must be ready"
    assert "w4_cut.dat" not in claimable, "claimed on stability alone while its last line is unfinished"
    assert "w4_fresh.dat" not in claimable, "claimed before the partner's window"
    assert run_home(home).returncode == 0
    assert cut.exists() and fresh.exists() and not whole.exists()
    assert dropzone.DEFAULT_STABLE_SECONDS > 1


def test_the_partners_window_is_a_setting(tmp_path):
    home = build_home(tmp_path / "home", bad=False)
    data = w4_file()
    path = put(home, "SDNH-KS", "w4_x.dat", data.replace(b"000007", b"000011", 1), done=False)
    _age(path, 60)
    _partners(home, **{"SDNH-KS": 120})
    assert path not in [e.path for e in inbound.claimable(home, 0.0)]
    _partners(home, **{"SDNH-KS": 30})
    assert path in [e.path for e in inbound.claimable(home, 0.0)]


def test_duplicates_are_per_submitter_and_line_endings_do_not_hide_one(tmp_path):
    home = build_home(tmp_path / "home", bad=False)
    data = {"partners": [*PARTNERS["partners"]]}
    data["partners"][0] = {**data["partners"][0], "file_types": ["fcr_input", "offset_debtor", "case_financial_csv"]}
    data["partners"][1] = {**data["partners"][1], "file_types": ["fcr_input", "case_financial_csv"]}
    (home / "partners.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    from pipeline.files.layouts import load_layout

    row = {
        "state": "KS",
        "case_id": "KSCASE1",
        "member_id": "KSM1",
        "case_type": "A",
        "monthly_obligation": "10000",
        "arrears": "500000",
        "as_of_date": "20261101",
    }
    fin = csv_text(load_layout("case_financial_csv"), [row]).encode()
    put(home, "KS", "finance.csv", fin)
    put(home, "MO", "finance.csv", fin)  # the same bytes from another state: not a duplicate of KS's
    assert run_home(home, None, CYCLES[0]).returncode == 0
    assert _ledger_status(home, "KS", "finance.csv") == "loaded"
    assert _ledger_status(home, "MO", "finance.csv") == "loaded"
    rows = query_store(home, "SELECT count(*) FROM ndnh").item()
    crlf = w4_file().replace(b"\n", b"\r\n")
    put(home, "SDNH-KS", "w4_ks_000007_crlf.dat", crlf)  # the same records, resent with CRLF
    assert run_home(home, None, CYCLES[1]).returncode == 0
    assert _ledger_status(home, "SDNH-KS", "w4_ks_000007_crlf.dat") == "duplicate"
    assert query_store(home, "SELECT count(*) FROM ndnh").item() == rows


def _ledger_status(home, submitter: str, name: str) -> str:
    return query_store(
        home, "SELECT status FROM file_ledger WHERE submitter = ? AND file_name = ?", [submitter, name]
    ).item()


def _new_hire_row(fein: str) -> dict:
    return {
        "ssn": "123456781",
        "first_name": "ANNA",
        "last_name": "SMITH",
        "address_line_1": "1 MAIN ST",
        "city": "WICHITA",
        "state": "KS",
        "zip": "67202",
        "dob": "19850102",
        "hire_date": "20261020",
        "state_of_hire": "KS",
        "employer_fein": fein,
        "employer_name": "OTHER CO",
        "employer_address_line_1": "2 ELM ST",
        "employer_city": "TOPEKA",
        "employer_state": "KS",
        "employer_zip": "66601",
    }


def test_a_new_hire_csv_in_another_employers_folder_is_refused(tmp_path):
    from pipeline.files.layouts import load_layout

    home = build_home(tmp_path / "home", bad=False)
    data = {"partners": [*PARTNERS["partners"]]}
    for fein in ("111111111", "222222222"):
        data["partners"].append({"id": f"EMP-{fein}", "kind": "employer", "file_types": ["new_hire_csv"]})
    (home / "partners.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    layout = load_layout("new_hire_csv")
    other = csv_text(layout, [_new_hire_row("222222222")]).encode()
    own = csv_text(layout, [_new_hire_row("111111111")]).encode()
    put(home, "EMP-111111111", "NEWHIRE.20261102.001.csv", other)  # rows name another employer
    put(home, "EMP-111111111", "NEWHIRE.EMP-222222222.20261102.002.csv", own)  # the name names another
    put(home, "EMP-111111111", "NEWHIRE.EMP-111111111.20261102.003.csv", own.replace(b"ANNA", b"ANNE"))
    malformed = csv_text(layout, [_new_hire_row("111111111"), _new_hire_row("12345X789")]).encode()
    put(home, "EMP-111111111", "NEWHIRE.EMP-111111111.20261102.004.csv", malformed.replace(b"ANNA", b"ANNIE"))
    assert run_home(home).returncode == 0
    assert _ledger_status(home, "EMP-111111111", "NEWHIRE.20261102.001.csv") == "rejected"
    assert _ledger_status(home, "EMP-111111111", "NEWHIRE.EMP-222222222.20261102.002.csv") == "rejected"
    assert _ledger_status(home, "EMP-111111111", "NEWHIRE.EMP-111111111.20261102.003.csv") == "loaded"
    # a malformed FEIN names no employer: that one record is rejected, the file and its other record load
    assert _ledger_status(home, "EMP-111111111", "NEWHIRE.EMP-111111111.20261102.004.csv") == "loaded"
    bad_fein = (
        "SELECT count(DISTINCT line) FROM rejects JOIN file_ledger USING (file_id)"
        " WHERE file_name LIKE '%004.csv' AND field = 'employer_fein'"
    )
    assert query_store(home, bad_fein).item() == 1
    codes = query_store(home, "SELECT DISTINCT unnest(reason_codes) FROM file_ledger WHERE status = 'rejected'")
    assert codes.to_series().to_list() == ["TRANSMITTER_MISMATCH"]
    assert query_store(home, "SELECT count(*) FROM ndnh WHERE employer_fein = '222222222'").item() == 0


def _corrupt_block(db, block: int) -> None:
    data = bytearray(db.read_bytes())
    offset = 3 * 4096 + block * 262144 + 64
    data[offset : offset + 64] = b"\xab" * 64
    db.write_bytes(data)


def test_a_corrupt_data_block_is_refused_clearly_and_nothing_stays_in_work(two_cycle_reference, tmp_path):
    base = build_home(tmp_path / "base")
    assert run_home(base, None, CYCLES[0]).returncode == 0
    second_drop(base)
    backup = (base / store.DB_NAME).read_bytes()
    blocks = (len(backup) - 3 * 4096) // 262144
    found = None
    for block in range(1, blocks):  # the first block read after the claim that a checksum catches
        home = tmp_path / f"try{block}" / "home"
        shutil.copytree(base, home)
        _corrupt_block(home / store.DB_NAME, block)
        proc = run_home(home, None, CYCLES[1])
        if proc.returncode != 0 and any(p.is_file() for p in (home / "work").rglob("*")):
            found = (home, proc)
            break
        shutil.rmtree(home.parent)
    assert found, "no block whose damage shows after the claim (the test needs one)"
    home, proc = found
    assert proc.returncode == 74 and "Traceback" not in proc.stderr, proc.stderr
    assert "backup" in proc.stderr
    (home / store.DB_NAME).write_bytes(backup)  # the documented restore
    (home / "fpls.duckdb.wal").unlink(missing_ok=True)
    rerun = run_home(home, None, CYCLES[1])
    assert rerun.returncode == 0 and "nothing ready" not in rerun.stderr, rerun.stderr
    assert not any(p.is_file() for p in (home / "work").rglob("*")), "a file stayed in work/"
    assert tree_bytes(home / "outbound") == tree_bytes(two_cycle_reference / "outbound")
    assert_same_home(home, two_cycle_reference)


@pytest.fixture
def two_cycle_reference(tmp_path_factory):
    from tests.pipeline.safeguards.test_faults import _run_ok

    home = build_home(tmp_path_factory.mktemp("ref2dz") / "home")
    _run_ok(home, CYCLES[0])
    second_drop(home)
    _run_ok(home, CYCLES[1])
    return home


HOSTILE = ("symlink", "folder", "pipe", "long_name", "control_name", "unterminated", "crlf_resend", "other_sender")


def _hostile(home, tmp_path, kind: str, n: int) -> str | None:
    """Put one hostile entry in the drop zone; returns the name the ledger will show (None: never claimed)."""
    folder = home / "inbound" / "SDNH-KS"
    data = w4_file().replace(b"000007", f"{900 + n:06d}".encode(), 1)
    match kind:
        case "symlink":
            target = tmp_path / f"target{n}.dat"
            target.write_bytes(data)
            (folder / f"link{n}.dat").symlink_to(target)
            return f"link{n}.dat"
        case "folder":
            (folder / f"dir{n}").mkdir()
            return f"dir{n}"
        case "pipe":
            os.mkfifo(folder / f"pipe{n}")
            return f"pipe{n}"
        case "long_name":
            name = f"L{n}" + "N" * 240 + ".dat"
            put(home, "SDNH-KS", name, data)
            return name
        case "control_name":
            name = f"c{n}\x1b[1m.dat"
            put(home, "SDNH-KS", name, data)
            return name
        case "unterminated":
            path = put(home, "SDNH-KS", f"cut{n}.dat", data[:1200], done=False)
            _age(path, 3600)
            return None
        case "crlf_resend":
            name = f"zcrlf{n}.dat"  # after w4_ks_000007.dat, which it repeats with CRLF endings
            put(home, "SDNH-KS", name, w4_file().replace(b"\n", b"\r\n"))
            return name
        case "other_sender":
            put(home, "SDNH-KS", f"NEWHIRE.EMP-123456789.{n}.csv", b"ssn,first_name\n123456781,ANNA\n")
            return f"NEWHIRE.EMP-123456789.{n}.csv"
    raise AssertionError(kind)


@settings(max_examples=max(3, EXAMPLES), deadline=None, suppress_health_check=list(HealthCheck))
@given(kinds=st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=4))
def test_hostile_entries_never_stall_or_change_the_others(reference_home, tmp_path_factory, kinds):
    tmp_path = tmp_path_factory.mktemp("hostile")
    home = build_home(tmp_path / "home")
    _partners(home, **{"SDNH-KS": 5})
    names = [_hostile(home, tmp_path, kind, n) for n, kind in enumerate(kinds)]
    proc = run_home(home)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "\x1b" not in proc.stdout + proc.stderr
    refused = query_store(home, "SELECT file_name, status FROM file_ledger WHERE status <> 'loaded'")
    for name in filter(None, names):
        assert name in refused["file_name"].to_list(), (name, refused)
    assert not any(os.path.lexists(p) for p in (home / "work").rglob("*") if not p.is_dir()), "left in work/"
    _others_loaded(home, reference_home)
    again = run_home(home)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
