"""The disclosure log decodes a cycle's outbound files a layout at a time (`decode_many`): every person record
must come out exactly as decoding each file on its own gives it, whether a file is joined with the others or
streamed on its own because it is large."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from pipeline.files import decode
from pipeline.files.layouts import load_layout


def _outbound_by_layout(home: Path) -> dict[str, list[Path]]:
    by_layout: dict[str, list[Path]] = {}
    for manifest in sorted((home / "outbound").glob("*/*/manifest.json")):
        for entry in json.loads(manifest.read_text())["files"]:
            by_layout.setdefault(entry["layout"], []).append(manifest.parent / entry["name"])
    return by_layout


@pytest.mark.parametrize("joined_up_to", [decode.JOINED_FILE_BYTES, 2_000])
def test_decoding_many_files_at_once_equals_decoding_each(sample_cycle, monkeypatch, joined_up_to):
    monkeypatch.setattr(decode, "JOINED_FILE_BYTES", joined_up_to)
    compared = 0
    for layout_name, paths in _outbound_by_layout(sample_cycle["home"]).items():
        layout = load_layout(layout_name)
        for record in (r for r in layout.records if any(f.pii == "ssn" for f in r.fields)):
            many = decode.decode_many(paths, layout, record.id)
            each = pl.concat(
                [
                    decode.decode_file(p, layout, record.id).with_columns(pl.lit(i).alias("file"))
                    for i, p in enumerate(paths)
                ],
                how="vertical_relaxed",
            )
            assert many.sort("file", maintain_order=True).equals(each.select(many.columns)), (layout_name, record.id)
            compared += many.height
    assert compared > 500
