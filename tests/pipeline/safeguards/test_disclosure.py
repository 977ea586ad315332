"""Disclosure log: every outbound record that carries a person's data is logged; audit answers who got it."""

from __future__ import annotations

import json

import polars as pl

from pipeline import store
from pipeline.cycle.disclose import file_disclosures, log_cycle_disclosures
from tests.pipeline.cycle.conftest import query_store
from tests.pipeline.safeguards.conftest import fpls


def _log(home) -> pl.DataFrame:
    return query_store(home, "SELECT * FROM disclosures")


def test_every_person_record_in_outbound_is_logged(sample_cycle):
    home, log = sample_cycle["home"], _log(sample_cycle["home"])
    manifests = list((home / "outbound").glob("*/*/manifest.json"))
    expected, documents = 0, 0
    for manifest in manifests:
        for entry in json.loads(manifest.read_text())["files"]:
            expected += file_disclosures(manifest.parent / entry["name"], entry["layout"]).height
            documents += entry["layout"] == "portal_document" and entry["name"].startswith("EDE-")
    # EDE documents are opaque bytes: the exchange itself logs one disclosure per delivered document.
    assert expected > 0 and log.filter(pl.col("layout") != "ede_document").height == expected
    assert documents > 0 and log.filter(pl.col("layout") == "ede_document").height == documents
    assert log["legal_basis"].null_count() == 0 and log["categories"].list.len().min() >= 1


def test_logging_twice_adds_nothing(sample_cycle):
    home = sample_cycle["home"]
    before = _log(home).height
    con = store.connect(home)
    try:
        cycle = con.execute("SELECT max(cycle_id) FROM cycles").fetchone()[0]
        assert log_cycle_disclosures(con, home, cycle).records == 0
    finally:
        con.close()
    assert _log(home).height == before


def test_audit_by_person_masks_and_answers(sample_cycle):
    home, log = sample_cycle["home"], _log(sample_cycle["home"])
    person = log.group_by("person_key").len().sort("len", descending=True)["person_key"][0]
    out = fpls("audit", "disclosures", "--home", str(home), "--person", person, "--json", check=True)
    rows = json.loads(out.stdout)["disclosures"]
    assert len(rows) == log.filter(pl.col("person_key") == person).height
    assert all(r["person_key"] == "***-**-" + person[-4:] for r in rows) and person not in out.stdout


def test_family_violence_addresses_never_reach_another_state(sample_cycle):
    home = sample_cycle["home"]
    fv = query_store(
        home,
        """SELECT DISTINCT state, verified_ssn FROM fcr_persons
                              WHERE family_violence = 'FV' AND verified_ssn IS NOT NULL""",
    )
    log = _log(home).filter(pl.col("layout") == "fcr_response")
    leaked = log.join(fv, left_on="person_key", right_on="verified_ssn").filter(
        (pl.col("recipient") != pl.col("state"))
        & (pl.col("categories").list.contains("address") | pl.col("categories").list.contains("employer"))
    )
    # an FV person registered by another state too may still get their own state's data
    own = fv.group_by("verified_ssn").agg(pl.col("state").alias("fv_states"))
    leaked = leaked.join(own, left_on="person_key", right_on="verified_ssn").filter(
        ~pl.col("fv_states").list.contains(pl.col("recipient"))
    )
    assert fv.height > 0 and log.height > 0 and leaked.is_empty(), leaked
