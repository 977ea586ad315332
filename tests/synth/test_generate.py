"""The generator's contract: deterministic, validates except where it says so, truth covers every record."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.files.decode import decode_file
from pipeline.files.layouts import load_all_layouts
from pipeline.files.validate import validate_file
from synth.home import generate

REPO = Path(__file__).resolve().parents[2]
INBOUND_TYPES = {name for name, lay in load_all_layouts().items() if lay.direction == "inbound"}
DOCUMENT = "portal_document"  # EDE documents / state-plan attachments: opaque bytes, one truth row each


def _files(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}


def test_committed_samples_are_what_the_generator_makes(sample_home: Path) -> None:
    committed = REPO / "sample_files"
    assert (committed / "partners.yaml").exists(), "run `make samples`"
    made, have = _files(sample_home), _files(committed)
    assert sorted(made) == sorted(have)
    differing = [name for name in made if made[name] != have[name]]
    assert not differing, f"sample_files/ is stale (run `make samples`): {differing[:5]}"
    assert sum(len(b) for b in have.values()) < 3_000_000


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    args = dict(n=600, states=["KS", "TX"], as_of=date(2026, 3, 15), cycles=2)
    generate(seed=3, out=tmp_path / "a", **args)
    generate(seed=3, out=tmp_path / "b", **args)
    generate(seed=4, out=tmp_path / "c", **args)
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == b
    assert a["inbound/SSA/SSA.SSA.20260315.001.dat"] != c["inbound/SSA/SSA.SSA.20260315.001.dat"]
    assert any(k.startswith("cycles/02/inbound/") for k in a)


def test_every_inbound_type_and_ready_markers(sample_home: Path) -> None:
    truth = pl.read_parquet(sample_home / "truth.parquet")
    assert set(truth.get_column("layout").unique()) == INBOUND_TYPES | {DOCUMENT}
    data = [p for p in (sample_home / "inbound").rglob("*") if p.is_file() and p.suffix != ".done"]
    for path in data:
        done = path.with_name(path.name + ".done")
        assert done.exists() and done.stat().st_size == 0
    partners = yaml.safe_load((sample_home / "partners.yaml").read_text())["partners"]
    by_id = {p["id"]: p for p in partners}
    for path in data:
        layout = truth.filter(pl.col("file") == path.name).get_column("layout")[0]
        assert layout in by_id[path.parent.name]["file_types"], path


def test_files_validate_except_the_deliberately_bad_records(sample_home: Path) -> None:
    truth = pl.read_parquet(sample_home / "truth.parquet")
    rejected_files = []
    for path in sorted(p for p in (sample_home / "inbound").rglob("*") if p.is_file() and p.suffix != ".done"):
        rows = truth.filter(pl.col("file") == path.name)
        if rows.get_column("layout")[0] == DOCUMENT:  # not a layout file: named by its form
            assert rows.height == 1 and not rows.get_column("expect_reject").any()
            continue
        result = validate_file(path)
        assert result.layout == rows.get_column("layout")[0], path.name
        assert result.records == rows.height, path.name  # truth has one row per line
        if result.file_status == "rejected":
            rejected_files.append(path.name)
            assert rows.get_column("expect_reject").all()
            continue
        expected = set(rows.filter("expect_reject").get_column("line").to_list())
        got = set(result.rejects.get_column("line").to_list())
        assert got == expected, (path.name, sorted(got ^ expected)[:5])
    assert rejected_files == ["W4.SDNH-KS.20261102.002.dat"]  # the one file with a bad header
    bad = truth.filter(pl.col("expect_reject") & (pl.col("file") != "W4.SDNH-KS.20261102.002.dat"))
    assert bad.height >= 10 and bad.get_column("corruptions").list.len().min() >= 1


def test_truth_names_true_persons_and_realistic_noise(sample_home: Path) -> None:
    truth = pl.read_parquet(sample_home / "truth.parquet")
    data = truth.filter(pl.col("person_id").is_not_null())
    persons = pl.read_parquet(sample_home / "truth_persons.parquet")
    assert data.get_column("person_id").is_in(persons.get_column("person_id").implode()).all()
    tags = set(data.get_column("corruptions").explode().drop_nulls().str.replace(r":.*", "").unique())
    for tag in (
        "nickname",
        "middle_missing",
        "typo_first",
        "typo_last",
        "ssn_one_digit",
        "ssn_missing",
        "dob_missing",
        "claim_without_ssn",
        "stale_address",
        "invalid",
    ):
        assert tag in tags, tag


def test_cli_generate_and_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "generate",
            "--persons",
            "300",
            "--states",
            "OK",
            "--seed",
            "1",
            "--as-of",
            "2026-01-05",
            "--out",
            str(tmp_path / "h"),
            "--json",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert '"files"' in ok.stdout and (tmp_path / "h" / "truth.parquet").exists()
    bad = runner.invoke(app, ["generate", "--states", "XX", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2
    bad_date = runner.invoke(app, ["generate", "--as-of", "2026-13-01", "--out", str(tmp_path / "y")])
    assert bad_date.exit_code == 2


@pytest.mark.parametrize("layout", ["ndnh_qw", "ndnh_ui", "msfidm_match", "offset_debtor", "fcr_input"])
def test_trailer_controls_agree(sample_home: Path, layout: str) -> None:
    truth = pl.read_parquet(sample_home / "truth.parquet").filter(pl.col("layout") == layout)
    for name in truth.get_column("path").unique().sort():
        result = validate_file(sample_home / name)
        assert not [e for e in result.file_errors if e["code"] == "CONTROL_MISMATCH"], name


def test_portal_documents_named_by_their_forms(sample_home: Path) -> None:
    """Every generated document is named (with its sha256) by an EDE manifest or state-plan form beside it."""
    import hashlib

    truth = pl.read_parquet(sample_home / "truth.parquet")
    docs = truth.filter(pl.col("layout") == DOCUMENT).get_column("path").to_list()
    assert docs
    for rel in docs:
        path = sample_home / rel
        forms = " ".join(p.read_text() for p in path.parent.glob("*.csv"))
        assert path.name in forms and hashlib.sha256(path.read_bytes()).hexdigest().upper() in forms, rel


def test_eterminations_mostly_end_a_w4_spell_of_the_same_employer(sample_home: Path) -> None:
    """True eTermination pairs exist: most termination notices (reason T) have a W-4 of the same person and
    employer FEIN in the home's history; "never employed" notices (reason N) never do."""
    truth = pl.read_parquet(sample_home / "truth.parquet").filter(pl.col("person_id").is_not_null())

    def records(layout: str, fein: str) -> pl.DataFrame:
        out = []
        for path in truth.filter(pl.col("layout") == layout).get_column("path").unique().sort():
            frame = pl.read_csv(sample_home / path, infer_schema=False) if path.endswith(".csv") else None
            if frame is None:
                continue
            rows = truth.filter(pl.col("path") == path).sort("line")
            frame = frame.with_row_index("line", offset=2).with_columns(pl.col("line").cast(pl.Int64))
            out.append(
                frame.join(rows.select("line", "person_id"), on="line").select(
                    "person_id",
                    pl.col(fein).alias("fein"),
                    *(["termination_reason"] if layout == "etermination" else []),
                )
            )
        return pl.concat(out)

    et = records("etermination", "employer_fein")
    w4 = truth.filter(pl.col("layout").is_in(["ndnh_w4", "new_hire_csv"]) & (pl.col("record_type") == "W4"))
    # the W-4 employer of each W-4 truth row: its submitter FEIN (EMP-…) or, for state directories, any FEIN
    w4_files = w4.select("path").unique().get_column("path").to_list()
    pairs = set()
    for path in w4_files:
        text = (sample_home / path).read_text().splitlines()
        rows = truth.filter((pl.col("path") == path) & (pl.col("record_type") == "W4")).select("line", "person_id")
        for line, pid in rows.iter_rows():
            rec = text[line - 1]
            pairs |= {(pid, fein) for fein in et.get_column("fein").unique().to_list() if fein and fein in rec}
    paired = et.with_columns(
        pl.struct("person_id", "fein")
        .map_elements(lambda r: (r["person_id"], r["fein"]) in pairs, return_dtype=pl.Boolean)
        .alias("pair")
    )
    t = paired.filter(pl.col("termination_reason") == "T")
    assert t.height >= 10 and t.get_column("pair").mean() > 0.6
    assert not paired.filter(pl.col("termination_reason") == "N").get_column("pair").any()


def test_eiwo_truth_covers_every_order_and_acknowledgment(sample_home: Path) -> None:
    """truth_eiwo.parquet names where each e-IWO line must go; every case and every disposition occurs."""
    truth = pl.read_parquet(sample_home / "truth.parquet")
    eiwo = pl.read_parquet(sample_home / "truth_eiwo.parquet")
    data = {"eiwo_order": "DTL", "eiwo_order_csv": "DTL", "eiwo_ack": "ACK", "eiwo_ack_csv": "ACK"}
    lines = truth.filter(pl.col("layout").is_in(list(data)) & pl.col("record_type").is_in(["DTL", "ACK"]))
    assert sorted(lines.select("file", "line").rows()) == sorted(eiwo.select("file", "line").rows())
    outcomes = set(eiwo.get_column("outcome"))
    assert {"SENT", "REJECTED", "REFUSED:UNKNOWN_FEIN", "REFUSED:DUPLICATE_IWO"} <= outcomes
    assert {"ROUTED", "REFUSED:ORDER_NOT_FOUND"} <= outcomes
    rejected = eiwo.join(truth.select("file", "line", "expect_reject"), on=["file", "line"])
    assert rejected.filter(pl.col("outcome") == "REJECTED").get_column("expect_reject").all()
    acks = [p for p in (sample_home / "inbound").glob("EMP-*/EIWOACK.*") if p.suffix in (".dat", ".csv")]
    codes = pl.concat(
        [decode_file(p, None, "ACK").select("disposition_status", "disposition_reason") for p in acks], how="vertical"
    )
    got = {s + (r or "") for s, r in codes.iter_rows()}
    assert {"A", "AB", "AS", "AW", "RB", "RD", "RM", "RN", "RU", "RX", "RZ"} <= got
