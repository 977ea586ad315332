"""The generator's household and form noise (synth.noise.household_noise: a relative's SSN, placeholder names, a
blank surname) through a whole cycle: a W-4 / QW / UI carrying a relative's SSN is never verified to it, so it
never locates the relative."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import yaml

from synth.home import generate
from tests.pipeline.cycle.conftest import fpls, read_store, run_home

NOISE = {"ssn_relative": 0.2, "placeholder_first": 0.02, "placeholder_last": 0.02, "last_missing": 0.02}
RATES = {
    "noise": {"w4": NOISE, "qw": NOISE, "ui": NOISE, "fcr": {k: v for k, v in NOISE.items() if k != "ssn_relative"}}
}


def test_a_relatives_ssn_never_locates_the_relative(tmp_path):
    rates = tmp_path / "rates.yaml"
    rates.write_text(yaml.safe_dump(RATES))
    home = tmp_path / "home"
    generate(1500, ["KS", "MO"], 11, home, date(2026, 11, 2), rates_path=rates)
    truth = pl.read_parquet(home / "truth.parquet")
    relative = truth.filter(pl.col("corruptions").list.contains("ssn_relative"))
    assert relative.height > 100
    assert run_home(home).returncode == 0
    with read_store(home) as con:
        records = pl.from_arrow(
            con.execute(
                """SELECT l.file_name AS file, n.line_no AS line, n.ssn, n.verified_ssn FROM ndnh n
                JOIN file_ledger l ON l.file_id = n.file_id"""
            ).arrow()
        )
    relative = relative.select(pl.col("file").str.split("/").list.last(), pl.col("line").cast(pl.Int64))
    records = relative.join(records.with_columns(pl.col("line").cast(pl.Int64)), on=["file", "line"])
    assert records.height > 100
    # the relative's SSN (the one reported) is never the one verified; the name + DOB search may find the own
    assert records.filter(pl.col("verified_ssn") == pl.col("ssn")).height == 0
    assert records.filter(pl.col("verified_ssn").is_not_null()).height > 0
    scores = json.loads(fpls("eval", "--home", str(home), "--json", check=True).stdout)["sources"]
    assert scores["ndnh_locate"]["precision"] >= 0.995
