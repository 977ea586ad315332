"""Bad-input campaign through the whole cycle: malformed files of every inbound layout are rejected or
quarantined with a reason, conservation holds file by file, and the cycle completes."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.files.layouts import load_all_layouts
from tests.pipeline.cycle.builder import PARTNERS, build_home, put
from tests.pipeline.cycle.conftest import query_store, run_home
from tests.support import csv_text, minimal_file, valid_row

EXAMPLES = int(os.environ.get("FPLS_SOAK_EXAMPLES", "3"))  # `make soak` raises it
INBOUND = [lay for lay in load_all_layouts().values() if lay.direction == "inbound"]
# Values that make the header name the folder's own transmitter, so the spoiling is what gets judged.
OWN = {"submitting_state": "KS", "transmitter_state_fips": "20", "transmitter_agency_code": ""}


def _valid_file(lay) -> bytes:
    if lay.format == "csv":
        return csv_text(lay, [valid_row(lay.by_role("data")[0]) | OWN] * 3).encode()
    text = minimal_file(lay, [(r.id, valid_row(r) | OWN) for r in lay.by_role("data")] * 3)
    if lay.header:  # minimal_file fills the header from valid_row: name the folder's transmitter there too
        from tests.support import control_values, record_line

        rows = [(r.id, valid_row(r) | OWN) for r in lay.by_role("data")] * 3
        head = {
            k: v
            for k, v in (control_values(lay, lay.header, rows) | OWN).items()
            if k in {f.name for f in lay.header.fields}
        }
        text = "\n".join([record_line(lay.header, head), *text.split("\n")[1:]])
    return text.encode()


VALID = {lay.name: _valid_file(lay) for lay in INBOUND}
SUBMITTER = {"fcr_input": "KS", "ssa_master": "SSA", "offset_debtor": "KS"}


def _spoil(raw: bytes, how: str, draw) -> bytes:
    lines = raw.split(b"\n")
    i = draw(st.integers(0, max(0, len(lines) - 2)))
    match how:
        case "short":
            lines[i] = lines[i][: len(lines[i]) // 2]
        case "long":
            lines[i] = lines[i] + b"X" * draw(st.integers(1, 2_000_000))  # up to a 2 MB line
        case "bad_code":
            lines[i] = lines[i][:1] + b"?" + lines[i][2:]
        case "bad_date":
            lines[i] = lines[i].replace(b"2026", b"2026-13", 1)
        case "bad_control":
            lines[-2] = lines[-2][:-3] + b"999"
        case "junk":
            return draw(st.binary(min_size=1, max_size=3000))
        case "empty":
            return b""
        case "bom":
            return b"\xef\xbb\xbf" + raw
        case "mixed_endings":
            return b"\n".join(ln + (b"\r" if k % 2 else b"") for k, ln in enumerate(lines))
    return b"\n".join(lines)


HOW = ["short", "long", "bad_code", "bad_date", "bad_control", "junk", "empty", "bom", "mixed_endings"]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_malformed_files_in_a_cycle(tmp_path_factory, data):
    home = build_home(tmp_path_factory.mktemp("bad") / "home", bad=False)
    partners = {p["id"]: p for p in PARTNERS["partners"]}
    dropped = []
    for n in range(data.draw(st.integers(3, 6))):
        layout = data.draw(st.sampled_from(INBOUND))
        submitter = SUBMITTER.get(layout.name, "SDNH-KS")
        partners.setdefault(submitter, {"id": submitter, "kind": "x", "file_types": []})["file_types"].append(
            layout.name
        )
        how = data.draw(st.sampled_from(HOW))
        name = f"bad_{n}_{layout.name}_{how}.{'csv' if layout.format == 'csv' else 'dat'}"
        put(home, submitter, name, _spoil(VALID[layout.name], how, data.draw))
        dropped.append((submitter, name))
    (home / "partners.yaml").write_text(json.dumps({"partners": list(partners.values())}))
    proc = run_home(home)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    rows = query_store(home, "SELECT submitter, file_name, status, records, accepted, rejected FROM file_ledger")
    ledger = {(s, f): (st_, r, a, j) for s, f, st_, r, a, j in rows.iter_rows()}
    for submitter, name in dropped:
        status, records, accepted, rejected = ledger[(submitter, name)]
        assert records == accepted + rejected, (name, records, accepted, rejected)
        archived = list((home / "archive").glob(f"*/{submitter}/{name}"))
        quarantined = list((home / "quarantine").glob(f"*/{submitter}/{name}"))
        assert len(archived) + len(quarantined) == 1, name
        if quarantined:
            reason = json.loads(quarantined[0].with_name(name + ".reason.json").read_text())
            assert reason["codes"] and all(e["message"] for e in reason["errors"]), reason
        assert not list((home / "inbound").glob(f"{submitter}/{name}")), name
