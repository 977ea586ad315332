"""What an operator sees: sysexits statuses instead of tracebacks, FEINs not masked as SSNs, no raw control
characters from file names, `--show-ssn` really recorded, `fpls read` and the QUICK view readable."""

from __future__ import annotations

import json
import shutil

import polars as pl
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.cli.portal_commands import _financial_line
from pipeline.safeguards.masking import scrub_text
from tests.pipeline.cycle.builder import build_home, put, qw_file, w4_file
from tests.pipeline.cycle.conftest import fpls, query_store, run_home


def test_partner_ids_are_not_masked_as_ssns(reference_home):
    assert scrub_text("EMP-232067735 sent 123456789") == "EMP-232067735 sent ***-**-6789"
    logs = "".join(p.read_text() for p in (reference_home / "logs").glob("*.jsonl"))
    assert "EMP-999999999" in logs and "EMP-***" not in logs


def test_control_characters_in_a_file_name_never_reach_the_terminal(tmp_path):
    home = build_home(tmp_path / "home", bad=False)
    put(home, "SDNH-KS", "w4\x1b[2J\x07evil.dat", w4_file().replace(b"000007", b"000031", 1))
    proc = run_home(home)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout + proc.stderr and "\x07" not in proc.stdout + proc.stderr
    assert "\\x1b" in proc.stdout, proc.stdout
    codes = query_store(home, "SELECT reason_codes FROM file_ledger WHERE file_name LIKE 'w4%evil.dat'").item()
    assert list(codes) == ["FILE_NAME_REFUSED"]


def test_permission_denied_is_exit_77_not_74(tmp_path, monkeypatch):
    import pipeline.cycle.run as cycle

    def denied(home, as_of=None, **_):
        raise PermissionError(13, "Permission denied", str(home / "outbound"))

    monkeypatch.setattr(cycle, "run_cycle", denied)
    result = CliRunner().invoke(app, ["run", "--home", str(tmp_path)])
    assert result.exit_code == 77, result.output


def test_show_ssn_is_recorded_without_the_ssn(reference_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(reference_home, home)
    out = fpls("query", "person", "--home", str(home), "--ssn", "123456781", "--show-ssn", check=True)
    assert "123456781" in out.stdout
    lines = (home / "logs" / "pii_access.jsonl").read_text().splitlines()
    assert len(lines) == 1 and "123456781" not in lines[0]
    row = json.loads(lines[0])
    assert row["command"] == "query person --show-ssn" and row["rows_shown"] >= 1 and row["account"]
    fpls("query", "person", "--home", str(home), "--ssn", "123456781", check=True)  # masked: not recorded
    assert len((home / "logs" / "pii_access.jsonl").read_text().splitlines()) == 1


def test_read_masks_ssns_only_and_shows_wage_records_of_a_qw_file(reference_home, tmp_path):
    fcr = next((reference_home / "outbound" / "KS").rglob("FCRRESP.*.dat"))
    out = fpls("read", str(fcr), "--record", "FS", check=True)
    fs = pl.read_csv(out.stdout.encode(), infer_schema=False)
    assert set(fs["ssn_validity_code"].drop_nulls()) <= set("VCENPRS ") and "****" not in set(
        fs["ssn_validity_code"].drop_nulls()
    )
    given = fs["submitted_ssn"].drop_nulls().filter(fs["submitted_ssn"].drop_nulls() != "")
    assert given.len() and given.str.starts_with("***-**-").all()
    qw = tmp_path / "qw.dat"
    qw.write_bytes(qw_file())
    rows = pl.read_csv(fpls("read", str(qw), check=True).stdout.encode(), infer_schema=False)
    assert "wage_amount" in rows.columns and rows["ssn"].to_list() == ["***-**-6781"]


def test_the_quick_financial_view_is_readable():
    summary = {
        "available": True,
        "as_of_date": "2026-11-01",
        "case_type": "N",
        "monthly_obligation_cents": 45000,
        "arrears_cents": 4518800,
        "payments_received_cents": 90000,
        "payments": [{"date": "2026-10-01", "amount_cents": 45000}, {"date": "2026-09-01", "amount_cents": 45000}],
    }
    line = _financial_line(summary)
    assert line == (
        "as of 2026-11-01 (N): monthly obligation $450.00, arrears $45,188.00, payments received $900.00 "
        "in 2 payment(s)"
    )
    assert "{" not in line and _financial_line({"available": False}) == "no case financial summary submitted"


def _run_on_a_terminal(home, *extra: str) -> tuple[int, str, str]:
    """`fpls run` with stderr on a pseudo-terminal (what an operator's shell gives it); stdout piped."""
    import os
    import pty
    import subprocess

    from tests.pipeline.cycle.conftest import FPLS, ROOT

    master, slave = pty.openpty()
    env = {**os.environ, "FPLS_POLL_SECONDS": "0", "COLUMNS": "120"}
    env.pop("FPLS_FAULT", None)
    proc = subprocess.Popen(
        [*FPLS, "run", "--home", str(home), "--as-of", "2026-11-02", *extra],
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=ROOT,
        env=env,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read().decode()
    code = proc.wait()
    os.close(master)
    return code, out, b"".join(chunks).decode(errors="replace")


def test_progress_on_a_terminal_only_and_never_with_json(tmp_path):
    home = build_home(tmp_path / "tty" / "home", bad=False)
    code, out, err = _run_on_a_terminal(home)
    assert code == 0 and "stage" in err and "load" in err and "cycle 20261102-01" in out, err
    home = build_home(tmp_path / "json" / "home", bad=False)
    code, out, err = _run_on_a_terminal(home, "--json")
    assert code == 0 and json.loads(out)["cycle_id"] == "20261102-01" and "stage" not in err, err
    home = build_home(tmp_path / "pipe" / "home", bad=False)
    piped = run_home(home)
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr


def test_store_failures_met_mid_work_are_74_with_a_message():
    import duckdb

    from pipeline.store.encryption import store_failure

    corrupt = duckdb.IOException("IO Error: Corrupt database file: computed checksum 1 does not match stored 2")
    full = duckdb.IOException('IO Error: Could not write file "fpls.duckdb": No space left on device')
    assert store_failure(corrupt)[1] == 74 and "backup" in store_failure(corrupt)[0]
    assert store_failure(full)[1] == 74 and "disk is full" in store_failure(full)[0]
    assert store_failure(duckdb.BinderException("Binder Error: no such column")) is None
