"""`fpls link` / `fpls verify-ssn` through the installed entry point."""

import json
import re
import subprocess
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
FPLS = ROOT / ".venv" / "bin" / "fpls"
CASES = ROOT / "tests" / "cases" / "matchers"
FULL_SSN = re.compile(r"(?<!\d)\d{9}(?!\d)|\d{3}-\d{2}-\d{4}")


def run(*args, home=None):
    cmd = [str(FPLS), *map(str, args)]
    if home:
        cmd += ["--home", str(home)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_link_cli(tmp_path):
    out, params = tmp_path / "pairs.csv", tmp_path / "params.json"
    p = run("link", CASES / "left.csv", CASES / "right.csv", "--out", out, "--json", "--save-params", params)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["schema_version"] == 1 and "ssn_exact" in summary["blocking_rule_pairs"]
    assert "blocking rule pairs" in p.stderr and "DUPLICATE_ID" in p.stderr
    assert not FULL_SSN.search(p.stdout + p.stderr)
    pairs = pl.read_csv(out, infer_schema=False)
    assert pairs.columns == ["left_id", "right_id", "match_weight", "match_probability", "decision", "explanation"]
    matched = set(pairs.filter(pl.col("decision") == "match").select("left_id", "right_id").iter_rows())
    assert {("L1", "R1"), ("L3", "R3")} <= matched
    assert not any(r == "R5" for _, r in matched)
    again = run(
        "link",
        CASES / "left.csv",
        CASES / "right.csv",
        "--out",
        tmp_path / "p2.csv",
        "--params",
        params,
        "--one-to-one",
    )
    assert again.returncode == 0, again.stderr
    assert "pairs=" in again.stdout


def test_link_missing_input(tmp_path):
    p = run("link", tmp_path / "nope.csv", CASES / "right.csv", "--out", tmp_path / "o.csv")
    assert p.returncode == 66


def test_link_bad_header(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\n1,x\n")
    p = run("link", bad, CASES / "right.csv", "--out", tmp_path / "o.csv")
    assert p.returncode == 65 and "header lacks" in p.stderr


def test_verify_cli(tmp_path):
    out = tmp_path / "v.csv"
    p = run(
        "verify-ssn",
        CASES / "verify_persons.csv",
        "--out",
        out,
        "--master",
        CASES / "master.csv",
        "--misidentified",
        CASES / "misidentified.csv",
        "--json",
    )
    assert p.returncode == 0, p.stderr
    assert not FULL_SSN.search(p.stdout + p.stderr)
    summary = json.loads(p.stdout)
    assert summary["codes"]["V"] >= 2 and summary["codes"]["R"] == 1
    rows = {r["id"]: r for r in pl.read_csv(out, infer_schema=False).iter_rows(named=True)}
    assert rows["c1"]["ssn_validity"] == "C" and rows["c1"]["verified_ssn"] == "123456789"


def test_verify_without_master_is_exit_66(tmp_path):
    p = run("verify-ssn", CASES / "verify_persons.csv", "--out", tmp_path / "v.csv", home=tmp_path)
    assert p.returncode == 66 and "no SSA master" in p.stderr
