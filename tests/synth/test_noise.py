"""Vectorised corruptions change exactly what their tag says."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from synth.noise import apply_noise
from synth.population import build_persons
from synth.rates import load_rates

RATES = load_rates()


def _persons(n=4000):
    return build_persons(n, ["KS", "MO"], 5, date(2026, 11, 2), RATES)


def _profile(**rates):
    base = {k: 0.0 for k in RATES["noise"]["default"]}
    return {**base, **rates}


def test_ssns_are_unique_and_structurally_valid():
    p = _persons(20000)
    ssn = pl.concat([p.get_column("ssn"), p.get_column("other_ssn").drop_nulls()])
    assert ssn.n_unique() == ssn.len() and ssn.str.contains(r"^\d{9}$").all()
    area, group, serial = ssn.str.slice(0, 3).cast(pl.Int32), ssn.str.slice(3, 2), ssn.str.slice(5, 4)
    assert not area.is_in([0, 666]).any() and (area < 900).all()
    assert (group != "00").all() and (serial != "0000").all()
    late = p.filter(pl.col("dob") < date(2011, 6, 25)).get_column("ssn").str.slice(0, 3).cast(pl.Int32)
    assert not (((late >= 734) & (late <= 749)) | (late >= 772)).any()


def test_one_digit_and_transposition_errors():
    p = _persons()
    out = apply_noise(p, _profile(ssn_one_digit=0.5, ssn_transposed=0.5), np.random.default_rng(1), p.get_column("ssn"))
    diff = out.select(
        pl.col("corruptions"),
        pl.concat_list([(pl.col("ssn").str.slice(i, 1) != pl.col("ssn_rep").str.slice(i, 1)) for i in range(9)])
        .list.sum()
        .alias("n_diff"),
    )
    one = diff.filter(pl.col("corruptions").list.contains("ssn_one_digit"))
    two = diff.filter(pl.col("corruptions").list.contains("ssn_transposed"))
    assert one.height > 1000 and (one.get_column("n_diff") == 1).all()
    assert two.height > 1000 and (two.get_column("n_diff") == 2).all()
    untagged = diff.filter(pl.col("corruptions").list.len() == 0)
    assert (untagged.get_column("n_diff") == 0).all()


def test_typos_nicknames_and_swaps_are_tagged_only_when_they_change_something():
    p = _persons()
    out = apply_noise(p, _profile(typo_last=1.0, nickname=1.0), np.random.default_rng(2), p.get_column("ssn"))
    typo = out.filter(pl.col("corruptions").list.eval(pl.element().str.starts_with("typo_last")).list.any())
    assert typo.height > 0.9 * out.height
    assert (typo.get_column("last_name") != typo.get_column("last")).all()
    lengths = (
        typo.get_column("last_name").str.len_chars().cast(pl.Int64)
        - typo.get_column("last").str.len_chars().cast(pl.Int64)
    ).abs()
    assert (lengths <= 1).all() and typo.get_column("last_name").str.contains(r"^[A-Z\-]+$").all()
    nick = out.filter(pl.col("corruptions").list.contains("nickname"))
    assert nick.height > 0 and (nick.get_column("first_name") != nick.get_column("first")).all()
    swapped = apply_noise(p, _profile(swap_names=1.0), np.random.default_rng(3), p.get_column("ssn"))
    assert (swapped.get_column("first_name") == swapped.get_column("last")).all()


def test_dob_errors_stay_valid_dates():
    p = _persons()
    out = apply_noise(p, _profile(dob_swap=0.5, dob_year=0.5), np.random.default_rng(4), p.get_column("ssn"))
    parsed = out.get_column("dob_rep").str.to_date("%Y%m%d", strict=False)
    assert parsed.null_count() == 0
    swapped = out.filter(pl.col("corruptions").list.contains("dob_swap"))
    assert swapped.height > 0
    assert (swapped.get_column("dob_rep").str.slice(4, 2) == swapped.get_column("dob").dt.strftime("%d")).all()
