"""DESIGN §8: an SSA master record with a blank or invalid DOB is kept with the DOB unknown (a warning, not a
reject), and its SSN still verifies on SSN + full name."""

from __future__ import annotations

from tests.pipeline.cycle.builder import MASTER, build_home, put, ssa_file, w4, w4_file
from tests.pipeline.cycle.conftest import read_store, run_home

UNKNOWN_DOB = [("523456785", "ROSE", "BLANK", ""), ("623456786", "IRIS", "BADDATE", "19801345")]


def test_master_rows_without_a_usable_dob_are_kept_with_a_warning(tmp_path):
    home = build_home(tmp_path / "h", bad=False)
    put(home, "SSA", "ssa_master_20261101.dat", ssa_file(MASTER + UNKNOWN_DOB))
    rows = [
        w4("523456785", "ROSE", "BLANK", "19800101", "20261015"),
        w4("623456786", "IRIS", "BADDATE", None, "20261015"),
    ]
    put(home, "SDNH-KS", "w4_ks_000007.dat", w4_file(rows=rows))
    proc = run_home(home)
    assert proc.returncode == 0, proc.stderr
    with read_store(home) as con:
        ledger = con.execute(
            "SELECT records, accepted, rejected FROM file_ledger WHERE layout = 'ssa_master'"
        ).fetchone()
        assert ledger == (len(MASTER) + 4, len(MASTER) + 4, 0)  # header, trailer and every MR kept
        kept = con.execute("SELECT ssn, dob FROM ssa_master WHERE ssn IN ('523456785', '623456786') ORDER BY ssn")
        assert kept.fetchall() == [("523456785", None), ("623456786", None)]
        warnings = con.execute(
            """SELECT r.line, r.field, r.code, r.severity FROM rejects r JOIN file_ledger l USING (file_id)
            WHERE l.layout = 'ssa_master' ORDER BY r.line"""
        ).fetchall()
        n = len(MASTER)
        assert warnings == [(n + 2, "dob", "UNKNOWN_VALUE", "W"), (n + 3, "dob", "UNKNOWN_VALUE", "W")]
        verified = con.execute(
            "SELECT ssn, verification FROM ndnh WHERE ssn IN ('523456785', '623456786') ORDER BY ssn"
        ).fetchall()
        assert verified == [("523456785", "V"), ("623456786", "V")]  # SSN + full name, DOB unknown on one side
