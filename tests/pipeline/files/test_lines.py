"""File- and line-level rules of fixed-width files: header first, trailer last, lengths, bytes, controls."""

from __future__ import annotations

import polars as pl
import pytest

from pipeline.files.layouts import load_layout
from pipeline.files.validate import validate_file
from tests.support import minimal_file, valid_row

W4 = load_layout("ndnh_w4")


def _w4_file(n: int = 3) -> list[str]:
    return minimal_file(W4, [("W4", valid_row(W4.record("W4")))] * n).splitlines()


def _validate(tmp_path, lines: list[str], ending: str = "\n", **kw):
    path = tmp_path / "w4.dat"
    path.write_bytes(ending.join(lines).encode("latin-1") + ending.encode())
    result = validate_file(path, **kw)
    assert result.records == result.accepted + result.rejected
    return result


def _codes(result) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for line, code in result.rejects.select("line", "code").iter_rows():
        out.setdefault(line, set()).add(code)
    return out


def test_good_file_is_accepted_and_detected(tmp_path):
    result = _validate(tmp_path, _w4_file())
    assert (result.layout, result.file_status, result.records, result.accepted) == ("ndnh_w4", "accepted", 5, 5)


def test_crlf_reads_like_lf(tmp_path):
    lf, crlf = _validate(tmp_path, _w4_file()), _validate(tmp_path, _w4_file(), ending="\r\n")
    assert (crlf.file_status, crlf.accepted, crlf.rejected) == (lf.file_status, lf.accepted, lf.rejected)


@pytest.mark.parametrize(
    "mutate, code",
    [
        (lambda s: s[:700], "LINE_LENGTH"),
        (lambda s: s + "XX", "LINE_LENGTH"),
        (lambda s: s[:20] + "\xc9" + s[21:], "NON_ASCII"),
        (lambda s: "", "BLANK_LINE"),
        (lambda s: "ZZ" + s[2:], "UNKNOWN_RECORD"),
        (lambda s: _w4_file()[0], "MISPLACED_HEADER"),
    ],
)
def test_line_level_problem_rejects_only_that_line(tmp_path, mutate, code):
    lines = _w4_file()[:-1]  # no trailer: its W4 count would (rightly) disagree once a W4 line is spoiled
    lines[2] = mutate(lines[2])
    result = _validate(tmp_path, lines, **({"layout": W4} if code == "BLANK_LINE" else {}))
    assert _codes(result) == {3: {code}}
    assert result.rejected == 1 and result.file_status == "accepted"
    assert (result.rejects["value"] == "").all()  # never the whole record


def test_record_after_trailer_is_rejected(tmp_path):
    lines = _w4_file()
    lines.append(lines[1])
    result = _validate(tmp_path, lines)
    assert _codes(result) == {6: {"AFTER_TRAILER"}}


def test_missing_header_rejects_whole_file(tmp_path):
    result = _validate(tmp_path, _w4_file()[1:], layout=W4)
    assert result.file_status == "rejected" and result.accepted == 0 and result.rejected == 4
    assert result.file_errors[0]["code"] == "HEADER_MISSING"


def test_invalid_header_rejects_whole_file(tmp_path):
    lines = _w4_file()
    lines[0] = lines[0][:18] + "20261399" + lines[0][26:]
    result = _validate(tmp_path, lines)
    assert result.file_status == "rejected"
    assert result.file_errors[0]["code"] == "HEADER_INVALID" and result.file_errors[0]["field"] == "date_stamp"


def test_trailer_count_mismatch_rejects_whole_file(tmp_path):
    lines = _w4_file()
    del lines[1]
    result = _validate(tmp_path, lines)
    assert result.file_status == "rejected" and result.file_errors[0]["code"] == "CONTROL_MISMATCH"
    assert "3, the file holds 2" in result.file_errors[0]["message"]


def test_missing_trailer_is_a_warning(tmp_path):
    result = _validate(tmp_path, _w4_file()[:-1])
    assert result.file_status == "accepted"
    assert [w["code"] for w in result.warnings] == ["TRAILER_MISSING"]


def test_reject_rate_over_limit_quarantines(tmp_path):
    lines = _w4_file(4)
    for i in (1, 2, 3):
        lines[i] = lines[i][:2] + "XXXXXXXXX" + lines[i][11:]
    result = _validate(tmp_path, lines)
    assert result.file_status == "rejected" and result.file_errors[0]["code"] == "REJECT_RATE"


def test_ssn_values_are_masked_in_rejects(tmp_path):
    lines = _w4_file()
    lines[1] = lines[1][:2] + "12345678X" + lines[1][11:]
    result = _validate(tmp_path, lines)
    values = result.rejects.filter(pl.col("field") == "ssn")["value"].to_list()
    assert values and all(v == "***-**-678X" for v in values)


def test_batches_give_the_same_result_as_one_pass(tmp_path):
    lines = _w4_file(30)
    lines[7] = lines[7][:300]
    lines[19] = lines[19][:2] + "ABCDEFGHI" + lines[19][11:]
    whole, batched = _validate(tmp_path, lines), _validate(tmp_path, lines, batch_rows=4)
    assert whole.to_json() == batched.to_json()


def test_sink_receives_typed_accepted_records(tmp_path):
    got: dict[str, list[pl.DataFrame]] = {}
    path = tmp_path / "w4.dat"
    path.write_text("\n".join(_w4_file(2)) + "\n")
    validate_file(path, sink=lambda rid, frame: got.setdefault(rid, []).append(frame))
    w4 = pl.concat(got["W4"])
    assert w4.height == 2 and w4.schema["hire_date"] == pl.Date and "filler" not in w4.columns
    assert got["T4"][0]["record_count"].to_list() == [2]


def test_empty_file(tmp_path):
    path = tmp_path / "empty.dat"
    path.write_bytes(b"")
    result = validate_file(path)
    assert result.file_status == "rejected" and result.file_errors[0]["code"] == "EMPTY_FILE" and result.records == 0


def test_unknown_file_type(tmp_path):
    path = tmp_path / "junk.dat"
    path.write_bytes(b"hello\nworld\n")
    result = validate_file(path)
    assert result.file_errors[0]["code"] == "UNKNOWN_LAYOUT" and (result.records, result.rejected) == (2, 2)


def test_header_controls_with_where_clauses(tmp_path):
    """The offset CTL record (a header) declares TANF / non-TANF counts and arrears; they must agree."""
    offset = load_layout("offset_debtor")
    case = offset.record("CASE")
    rows = [
        ("CASE", valid_row(case) | {"case_type": "A", "arrearage": "2500"}),
        ("CASE", valid_row(case) | {"case_type": "N", "arrearage": "1"}),
    ]
    lines = minimal_file(offset, rows).splitlines()
    assert _validate(tmp_path, lines).file_status == "accepted"
    lines[0] = lines[0][:23] + "00000002499" + lines[0][34:]  # TANF amount 2499 instead of 2500
    result = _validate(tmp_path, lines)
    assert result.file_status == "rejected"
    assert [(e["code"], e["field"]) for e in result.file_errors] == [("CONTROL_MISMATCH", "tanf_amount")]
    assert "2499, the file holds 2500" in result.file_errors[0]["message"]
