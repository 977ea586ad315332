"""Layouts load, cover DESIGN §7, and a broken layout is reported in full."""

import shutil
from pathlib import Path

import pytest

from pipeline.files.layouts import (
    LAYOUT_DIR,
    LayoutError,
    _cache_file,
    _checked_layouts,
    load_all_layouts,
    load_layout_file,
)

CASES = Path(__file__).resolve().parents[2] / "cases" / "layouts"


def test_every_layout_loads_and_has_a_data_record():
    layouts = load_all_layouts()
    assert len(layouts) >= 12
    for layout in layouts.values():
        assert layout.by_role("data"), layout.name


def test_fixed_records_tile_their_length():
    for layout in load_all_layouts().values():
        for record in layout.records if layout.format == "fixed" else ():
            assert sum(f.length for f in record.fields) == layout.record_length, (layout.name, record.id)


def test_every_field_has_provenance_and_type():
    for layout in load_all_layouts().values():
        for record in layout.records:
            for f in record.fields:
                assert f.prov in {"S", "D", "K", "P"} and f.type, (layout.name, record.id, f.name)


def test_w4_positions_follow_design():
    w4 = load_all_layouts()["ndnh_w4"].record("W4")
    spans = {f.name: (f.start, f.end) for f in w4.fields}
    assert spans["ssn"] == (3, 11) and spans["last_name"] == (44, 73) and spans["dob"] == (272, 279)
    assert spans["hire_date"] == (280, 287) and spans["employer_zip"] == (503, 507)


@pytest.mark.parametrize(
    "case, expected",
    [
        ("overlap.yaml", ["overlaps the field ending at 5"]),
        ("gap.yaml", ["gap 6-7 before it is not declared as filler"]),
        ("too_long.yaml", ["fields total 12 bytes, record_length is 10"]),
        ("duplicate.yaml", ["record R.b: duplicate field name"]),
        ("unknown_key.yaml", ["unknown key 'lenght'", "unknown key 'colour'"]),
        ("many.yaml", ["overlaps", "not snake_case", "type 'text'", "control", "unknown record"]),
    ],
)
def test_broken_layouts_name_file_record_and_field(case, expected):
    with pytest.raises(LayoutError) as err:
        load_layout_file(CASES / case)
    message = str(err.value)
    assert case in message
    for fragment in expected:
        assert fragment in message, message


def test_checked_layouts_come_back_from_the_cache_until_a_layout_changes(tmp_path):
    folder = tmp_path / "layouts"
    shutil.copytree(LAYOUT_DIR, folder)
    first = _checked_layouts(folder)
    cached = _cache_file(folder, sorted(folder.glob("*.yaml")))
    try:
        assert cached.exists() and _checked_layouts(folder) == first
        w4 = folder / "ndnh_w4.yaml"
        w4.write_text(w4.read_text().replace("description: Employee first name}", "description: Given name}"))
        changed = _checked_layouts(folder)
        assert changed["ndnh_w4"].record("W4").field("first_name").description == "Given name"
        assert not cached.exists()  # the stale entry is gone
        w4.write_text(w4.read_text().replace("start: 12, length: 16", "start: 12, length: 15"))
        with pytest.raises(LayoutError):  # a broken layout is never served from a cache
            _checked_layouts(folder)
    finally:
        for entry in cached.parent.glob(cached.name.rsplit("-", 1)[0] + "-*.pickle"):
            entry.unlink()
