"""A whole fpls home from the pseudopeople corpus (bench/devcorpus.py), for `fpls run` / `fpls eval` on data nobody
on this project wrote.

    .venv/bin/python -m bench.devhome --seed 1 --year 2021 --out bench/data/devhome-s1 --check
    .venv/bin/fpls run --home bench/data/devhome-s1 --as-of 2031-01-14 && .venv/bin/fpls eval --home bench/data/devhome-s1

Layout of the home (as `fpls generate` lays one out; files rendered here from layouts/*.yaml with pyyaml and a small
polars fixed-width writer, never through pipeline.*):

    partners.yaml                                   SSA (ssa_master), WA (fcr_input), SDNH-WA (ndnh_w4)
    inbound/SSA/SSA.SSA.<date>.001.dat(+.done)      ssa_master: MH, one MR per ssa.csv row, MT
    inbound/WA/FCR.WA.<date>.001.dat(+.done)        fcr_input: FH, per household one FC case + FP persons, FZ
    inbound/SDNH-WA/W4.SDNH-WA.<date>.001.dat(+.done)  ndnh_w4: H4, one W4 per W-2 form (1099s left out), T4
    truth.parquet                                   one row per record line: cycle, submitter, layout, file, path,
                                                    line, record_type, person_id, corruptions, expect_reject
    devhome.json                                    what was written, counts, expected rejects per file

Mapping choices (beyond bench/devcorpus.py's):
- Values are written as the corpus has them, upper-cased, cut to the field length: pseudopeople's noise that the
  layouts forbid (a digit or `|` in a name, an OCR letter in an SSN, a blank SSN on a W-4, a day/month swap that
  is no date) stays, so the validator rejects those records as it would a partner's. `expect_reject` in the truth
  is this module's own reading of the layout (required, alpha = A-Z space hyphen, numeric/pattern, date valid,
  NAME_MISSING; a field of `severity: warning`, such as the SSA master's DOB, never rejects); `devhome.json` compares it with `fpls validate` when --check is given.
- person_id: pseudopeople's `simulant_id` "<shard>_<n>" as shard * 10,000,000 + n; null for header, trailer and
  case (FC) lines. A W-2 of somebody without an SSA record keeps its own person (the SSN it reports is not theirs).
- SSA master: ssn, names, dob (CCYYMMDD), sex and the date of death of the simulant's death event; no other SSNs.
- FCR (state WA, since the sample population lives in WA): census, ACS and CPS persons, none with an SSN, so every
  one asks the FCR to identify it (name + DOB). One IV-D case (type F, order Y) per source household
  (`WA<source letter><household number>`); member ids `WA` + the person's row; participant type CH under 18 at the
  as-of date, else CP for the household's first adult and NP for the others (no relationship data is used);
  action A, no locate request.
- W-4 (SDNH-WA, transmitter FIPS 53): W-2 forms only (1099s are not new hires); address line 1 the mailing street
  or PO box, city/state/ZIP as given (every ZIP is 00000 in the sample), no DOB (W-2s carry none), hire date
  --hire-date (default 10 days before as-of), state of hire WA, employer FEIN `91` + the 7-digit pseudopeople
  employer id, employer name and address from the W-2.
- The as-of date defaults to January 14 of the year after the later of the W-2 tax year and the census year (the
  census and the SSA master run to the census year, so an earlier date would hold DOBs in the future); the file
  dates are the as-of date. The W-2 tax year is then only a label: the W-4s are hires of `--hire-date`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import yaml

ROOT = Path(__file__).resolve().parent.parent
LAYOUTS = ROOT / "layouts"


# ---------------------------------------------------------------------------------------------- fixed-width writer
def load_layout(name: str) -> dict:
    return yaml.safe_load((LAYOUTS / f"{name}.yaml").read_text())


def record_spec(layout: dict, rid: str) -> dict:
    return next(r for r in layout["records"] if r["id"] == rid)


def _field_expr(f: dict) -> pl.Expr:
    """The field's text, exactly `length` characters: alpha/alnum/code/numeric/date left-justified and space-padded
    (upper-cased), amount right-justified and zero-padded, filler spaces. A missing column is blank."""
    n = f["length"]
    if f["type"] == "filler":
        return pl.lit(" " * n)
    v = pl.col(f["name"]).cast(pl.Utf8).fill_null("")
    if f["type"] == "amount":
        return v.str.pad_start(n, "0").str.slice(0, n)
    if f["type"] == "date":
        v = v.str.replace_all("-", "")
    return v.str.to_uppercase().str.slice(0, n).str.pad_end(n, " ")


def render(layout: dict, rid: str, frame: pl.DataFrame) -> list[str]:
    """Lines for `frame` as records `rid` (columns named like the layout's fields; record_id is filled in)."""
    spec = record_spec(layout, rid)
    fields = sorted(spec["fields"], key=lambda f: f["start"])
    pos = 1
    for f in fields:
        assert f["start"] == pos, f"{layout['name']}.{rid}: gap before {f['name']}"
        pos += f["length"]
    assert pos - 1 == layout["record_length"], f"{layout['name']}.{rid}: {pos - 1} != {layout['record_length']}"
    frame = frame.with_columns(pl.lit(rid).alias("record_id"))
    for f in fields:
        if f["name"] not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Utf8).alias(f["name"]))
    return frame.select(pl.concat_str([_field_expr(f) for f in fields]).alias("line"))["line"].to_list()


def expect_reject(layout: dict, rid: str, frame: pl.DataFrame) -> pl.Series:
    """This module's reading of the layout: True where a data record breaks a field rule (see module doc)."""
    spec = record_spec(layout, rid)
    bad = pl.lit(False)
    for f in spec["fields"]:
        if f["type"] == "filler" or f["name"] == "record_id" or f.get("severity") == "warning":
            continue  # a warning field's blank or bad value is kept as unknown, never a reject
        n = f["length"]
        raw = pl.col(f["name"]).cast(pl.Utf8) if f["name"] in frame.columns else pl.lit(None, pl.Utf8)
        v = raw.str.to_uppercase().str.slice(0, n).str.strip_chars()
        if f["type"] == "date":
            v = raw.str.replace_all("-", "")
        blank = v.is_null() | (v == "")
        rule = pl.lit(False)
        if f["type"] == "alpha":
            rule = ~v.str.contains(r"^[A-Z -]*$")
        elif f["type"] == "numeric":
            rule = ~v.str.contains(r"^\d*$")
        elif f["type"] == "date":
            rule = v.str.to_date("%Y%m%d", strict=False).is_null()
        if "pattern" in f:
            rule = rule | ~v.str.contains(f["pattern"])
        if "values" in f:
            rule = rule | ~v.is_in([str(x) for x in f["values"]])
        bad = bad | (blank & pl.lit(bool(f.get("required")))) | (~blank & rule.fill_null(True))
    for r in spec.get("rules", []):
        if r.get("code") == "NAME_MISSING":
            cols = [pl.col(c).cast(pl.Utf8).str.strip_chars().fill_null("") == "" for c in r["any_of"]]
            bad = bad | pl.all_horizontal(cols)
    return frame.select(bad.fill_null(True).alias("x"))["x"]


def write_file(home: Path, submitter: str, name: str, lines: list[str]) -> Path:
    d = home / "inbound" / submitter
    d.mkdir(parents=True, exist_ok=True)
    path = d / name
    path.write_text("\n".join(lines) + "\n", encoding="ascii", errors="replace")
    (d / (name + ".done")).write_text("")
    return path


# ---------------------------------------------------------------------------------------------- the three files
def person_id(col: str = "simulant_id") -> pl.Expr:
    parts = pl.col(col).str.split("_")
    return parts.list.get(0).cast(pl.Int64) * 10_000_000 + parts.list.get(1).cast(pl.Int64)


def truth_rows(submitter: str, layout: str, path: Path, home: Path, kinds: list[str], pids: list, rejects: list):
    return pl.DataFrame(
        {
            "cycle": pl.Series([1] * len(kinds), dtype=pl.Int16),
            "submitter": [submitter] * len(kinds),
            "layout": [layout] * len(kinds),
            "file": [path.name] * len(kinds),
            "path": [str(path.relative_to(home))] * len(kinds),
            "line": list(range(1, len(kinds) + 1)),
            "record_type": kinds,
            "person_id": pl.Series(pids, dtype=pl.Int64),
            "corruptions": pl.Series([[] for _ in kinds], dtype=pl.List(pl.Utf8)),
            "expect_reject": pl.Series(rejects, dtype=pl.Boolean),
        }
    )


def ssa_file(corpus: Path, home: Path, stamp: str) -> tuple[Path, pl.DataFrame]:
    lay = load_layout("ssa_master")
    key = pl.read_csv(corpus / "key.csv", infer_schema=False)
    mr = (
        pl.read_csv(corpus / "ssa.csv", infer_schema=False)
        .join(pl.read_csv(corpus / "ssa_deaths.csv", infer_schema=False), on="id", how="left")
        .join(key.select("id", "simulant_id"), on="id", how="left")
    )
    lines = [
        *render(
            lay, "MH", pl.DataFrame({"transmitter_id": ["SSA"], "date_stamp": [stamp], "batch_number": ["000001"]})
        ),
        *render(lay, "MR", mr),
        *render(lay, "MT", pl.DataFrame({"record_count": [str(mr.height)]})),
    ]
    path = write_file(home, "SSA", f"SSA.SSA.{stamp}.001.dat", lines)
    pids = mr.select(person_id())["simulant_id"].to_list()
    rej = expect_reject(lay, "MR", mr).to_list()
    return path, truth_rows(
        "SSA", "ssa_master", path, home, ["MH", *["MR"] * mr.height, "MT"], [None, *pids, None], [False, *rej, False]
    )


def fcr_file(corpus: Path, home: Path, stamp: str, as_of: dt.date) -> tuple[Path, pl.DataFrame]:
    lay = load_layout("fcr_input")
    key = pl.read_csv(corpus / "key.csv", infer_schema=False)
    p = (
        pl.read_csv(corpus / "census.csv", infer_schema=False)
        .with_row_index("_row", offset=1)
        .join(key.select("id", "source", "simulant_id", "household_id"), on="id", how="left")
    )
    src_letter = pl.col("source").str.slice(0, 1).str.to_uppercase()
    p = p.with_columns(
        (
            pl.lit("WA")
            + src_letter
            + pl.col("household_id").str.split("_").list.get(0)
            + "X"
            + pl.col("household_id").str.split("_").list.get(1).str.zfill(8)
        ).alias("case_id"),
        (pl.lit("WA") + pl.col("_row").cast(pl.Utf8).str.zfill(8)).alias("member_id"),
        pl.col("dob").str.to_date("%Y-%m-%d", strict=False).alias("_dob"),
    )
    age_18 = pl.col("_dob").dt.offset_by("18y") > pl.lit(as_of)
    p = p.with_columns(age_18.fill_null(False).alias("_child"))
    p = p.with_columns(
        pl.when(pl.col("_child"))
        .then(pl.lit("CH"))
        .when(pl.col("_row") == pl.col("_row").filter(~pl.col("_child")).min().over("case_id"))
        .then(pl.lit("CP"))
        .otherwise(pl.lit("NP"))
        .alias("participant_type"),
        pl.lit("A").alias("action_type"),
    ).sort("case_id", "_row")
    cases = (
        p.group_by("case_id", maintain_order=True)
        .agg(pl.len().alias("_n"))
        .with_columns(
            pl.lit("A").alias("action_type"), pl.lit("F").alias("case_type"), pl.lit("Y").alias("order_indicator")
        )
    )
    fc = render(lay, "FC", cases)
    fp = render(lay, "FP", p.with_columns(pl.lit(None, pl.Utf8).alias("ssn")))
    rej = expect_reject(lay, "FP", p.with_columns(pl.lit(None, pl.Utf8).alias("ssn"))).to_list()
    pids = p.select(person_id())["simulant_id"].to_list()
    lines, kinds, ids, rejects = [], [], [], []
    i = 0
    for case_line, n in zip(fc, cases["_n"].to_list()):
        lines.append(case_line), kinds.append("FC"), ids.append(None), rejects.append(False)
        for _ in range(n):
            lines.append(fp[i]), kinds.append("FP"), ids.append(pids[i]), rejects.append(rej[i])
            i += 1
    header = render(
        lay,
        "FH",
        pl.DataFrame(
            {"submitting_state": ["WA"], "date_stamp": [stamp], "batch_number": ["000001"], "version": ["01"]}
        ),
    )
    trailer = render(lay, "FZ", pl.DataFrame({"case_count": [str(cases.height)], "person_count": [str(p.height)]}))
    path = write_file(home, "WA", f"FCR.WA.{stamp}.001.dat", [*header, *lines, *trailer])
    return path, truth_rows(
        "WA", "fcr_input", path, home, ["FH", *kinds, "FZ"], [None, *ids, None], [False, *rejects, False]
    )


def w4_file(corpus: Path, home: Path, stamp: str, hire: str) -> tuple[Path, pl.DataFrame]:
    lay = load_layout("ndnh_w4")
    key = pl.read_csv(corpus / "key.csv", infer_schema=False)
    w = (
        pl.read_csv(corpus / "w2.csv", infer_schema=False)
        .join(pl.read_csv(corpus / "w2_employers.csv", infer_schema=False), on="id", how="left")
        .join(key.select("id", "simulant_id"), on="id", how="left")
        .filter(pl.col("tax_form") == "W2")
    )
    w = w.with_columns(
        pl.col("street").alias("address_line_1"),
        pl.lit(hire).alias("hire_date"),
        pl.lit("WA").alias("state_of_hire"),
        (pl.lit("91") + pl.col("employer_id").str.zfill(7)).alias("employer_fein"),
        pl.col("employer_street").alias("employer_address_line_1"),
    )
    header = render(
        lay,
        "H4",
        pl.DataFrame(
            {
                "transmitter_state_fips": ["53"],
                "transmission_type": ["W4"],
                "version": ["01"],
                "date_stamp": [stamp],
                "batch_number": ["000001"],
            }
        ),
    )
    trailer = render(lay, "T4", pl.DataFrame({"record_count": [str(w.height)]}))
    path = write_file(home, "SDNH-WA", f"W4.SDNH-WA.{stamp}.001.dat", [*header, *render(lay, "W4", w), *trailer])
    pids = w.select(person_id())["simulant_id"].to_list()
    rej = expect_reject(lay, "W4", w).to_list()
    return path, truth_rows(
        "SDNH-WA", "ndnh_w4", path, home, ["H4", *["W4"] * w.height, "T4"], [None, *pids, None], [False, *rej, False]
    )


PARTNERS = """# Registered submitters, written by bench/devhome.py (pseudopeople dev corpus).
partners:
- id: SSA
  kind: ssa
  file_types: [ssa_master]
- id: WA
  kind: state
  file_types: [fcr_input]
- id: SDNH-WA
  kind: sdnh
  file_types: [ndnh_w4]
"""


def fpls_validate(path: Path) -> dict | None:
    """`fpls validate FILE --json` through the CLI (None when it cannot run)."""
    exe = ROOT / ".venv" / "bin" / "fpls"
    for cmd in ([str(exe)], [sys.executable, "-m", "pipeline.cli"]):
        proc = subprocess.run([*cmd, "validate", str(path), "--json"], capture_output=True, text=True, cwd=ROOT)
        if proc.stdout.lstrip().startswith("{"):
            return json.JSONDecoder().raw_decode(proc.stdout.lstrip())[0]
    return None


def build(corpus: Path, out: Path, as_of: dt.date, hire: dt.date, check: bool) -> dict:
    stamp = as_of.strftime("%Y%m%d")
    for owned in ("inbound", "truth.parquet", "partners.yaml", "devhome.json"):
        target = out / owned
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / "partners.yaml").write_text(PARTNERS)
    made = [
        ssa_file(corpus, out, stamp),
        fcr_file(corpus, out, stamp, as_of),
        w4_file(corpus, out, stamp, hire.strftime("%Y%m%d")),
    ]
    truth = pl.concat([t for _, t in made])
    truth.write_parquet(out / "truth.parquet")
    files = {}
    for path, t in made:
        info = {"records": t.height, "expect_reject": int(t["expect_reject"].sum())}
        if check:
            v = fpls_validate(path)
            info["fpls_validate"] = (
                v
                if v is None
                else {
                    k: v[k]
                    for k in v
                    if k
                    in (
                        "status",
                        "records",
                        "accepted",
                        "rejected",
                        "layout",
                        "reject_codes",
                        "errors_by_code",
                        "file_status",
                    )
                }
            )
        files[str(path.relative_to(out))] = info
    summary = {
        "corpus": str(corpus),
        "home": str(out),
        "as_of": as_of.isoformat(),
        "hire_date": hire.isoformat(),
        "files": files,
        "run": f"fpls run --home {out} --as-of {as_of.isoformat()} && fpls eval --home {out}",
    }
    (out / "devhome.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--year", type=int, default=2021)
    ap.add_argument("--census-year", type=int, default=2030)
    ap.add_argument("--corpus", type=Path, help="existing bench/devcorpus.py output (default: built under bench/data)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--as-of", help="cycle date YYYY-MM-DD (default: January 14 after the later of year, census year)")
    ap.add_argument("--hire-date", help="W-4 hire date (default: 10 days before as-of)")
    ap.add_argument("--check", action="store_true", help="also run `fpls validate --json` on each file")
    args = ap.parse_args()
    corpus = args.corpus or ROOT / "bench" / "data" / f"dev-s{args.seed}-y{args.year}-c{args.census_year}"
    if not (corpus / "ssa_deaths.csv").exists():
        build_corpus = ["-m", "bench.devcorpus", "--seed", str(args.seed), "--year", str(args.year)]
        build_corpus += ["--census-year", str(args.census_year), "--out", str(corpus)]
        subprocess.run([sys.executable, *build_corpus], cwd=ROOT, check=True, capture_output=True)
    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date(max(args.year, args.census_year) + 1, 1, 14)
    hire = dt.date.fromisoformat(args.hire_date) if args.hire_date else as_of - dt.timedelta(days=10)
    print(json.dumps(build(corpus, args.out, as_of, hire, args.check), indent=2))


if __name__ == "__main__":
    main()
