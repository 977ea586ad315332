"""Boundaries: each recipient's folder holds only its own responses; modes; no attribution across folders."""

from __future__ import annotations

import stat

import polars as pl

from pipeline import store
from pipeline.files.decode import decode_file
from tests.pipeline.cycle.conftest import query_store

HOME_AREAS = ("outbound", "archive", "quarantine", "reports", "logs", "work")


def test_state_responses_only_concern_that_state(sample_cycle):
    home = sample_cycle["home"]
    checked = 0
    for path in (home / "outbound").glob("*/*/FCRRESP.*.dat"):
        recipient = path.parent.parent.name
        for record in ("FD", "FS", "FN", "FT"):
            frame = decode_file(path, None, record)
            state_cols = [c for c in ("state", "submitting_state", "transmitter_state") if c in frame.columns]
            for col in state_cols:
                assert frame.filter(pl.col(col).is_not_null() & (pl.col(col) != recipient)).is_empty(), (path, col)
            checked += frame.height
    assert checked > 0


def _ledger(home) -> pl.DataFrame:
    return query_store(home, "SELECT submitter, file_name FROM file_ledger")


def test_acks_only_name_the_recipients_own_files(sample_cycle):
    home = sample_cycle["home"]
    own = _ledger(home).group_by("submitter").agg(pl.col("file_name"))
    names = dict(zip(own["submitter"], own["file_name"].to_list()))
    for path in (home / "outbound").glob("*/*/ACK.*.dat"):
        recipient = path.parent.parent.name
        files = decode_file(path, None, "AF")
        column = next(c for c in files.columns if "file" in c and "name" in c)
        assert set(files[column].drop_nulls()) <= set(names.get(recipient, [])), path


def test_ledger_attributes_each_file_to_its_folder(sample_cycle):
    home = sample_cycle["home"]
    for submitter, name in _ledger(home).iter_rows():
        assert any((home / area).glob(f"*/{submitter}/{name}") for area in ("archive", "quarantine")), (submitter, name)


def test_folders_0750_files_0640(sample_cycle):
    home = sample_cycle["home"]
    paths = [p for area in HOME_AREAS for p in (home / area).rglob("*")] + [home / store.DB_NAME]
    assert paths
    bad = [
        (str(p), oct(stat.S_IMODE(p.stat().st_mode)))
        for p in paths
        if stat.S_IMODE(p.stat().st_mode) != (0o750 if p.is_dir() else 0o640)
    ]
    assert not bad, bad[:10]
