"""Outbound folders (outbound/<recipient>/<cycle>/): fixed-width files written atomically and recorded in
the folder's manifest.json (name, layout, bytes, sha256, records per record type).

The outbound stage writes a folder's manifest whole; the exchanges that run after it merge their entries
in (replaced by file name), so every stage's files live in one manifest whichever stage writes last.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipeline.files.layouts import load_layout
from pipeline.files.writer import Blocks, atomic_write, fixed_bytes


def write_entry(folder: Path, name: str, layout_name: str, data: bytes, records: dict) -> dict:
    """Write one outbound file's bytes atomically; its manifest entry."""
    atomic_write(folder / name, data)
    return {
        "name": name,
        "layout": layout_name,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "records": records,
    }


def write_file(folder: Path, name: str, layout_name: str, blocks: Blocks) -> dict:
    """Write one fixed-width file atomically; its manifest entry."""
    data = fixed_bytes(load_layout(layout_name), blocks)
    return write_entry(folder, name, layout_name, data, {rid: f.height for rid, f in blocks})


def write_manifest(folder: Path, cycle: str, recipient: str, entries: list[dict]) -> None:
    manifest = {"cycle": cycle, "recipient": recipient, "files": entries}
    atomic_write(folder / "manifest.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())


def merge_manifest(folder: Path, cycle: str, recipient: str, entries: list[dict]) -> None:
    path = folder / "manifest.json"
    files = []
    if path.is_file():
        try:
            files = json.loads(path.read_text()).get("files", [])
        except ValueError:
            pass
    names = {e["name"] for e in entries}
    kept = [f for f in files if f.get("name") not in names]
    write_manifest(folder, cycle, recipient, sorted(kept + entries, key=lambda f: f["name"]))


def write_blocks(home: Path, cycle: str, recipient: str, name: str, layout_name: str, blocks: Blocks) -> dict:
    """Write one fixed-width outbound file and merge its entry into the folder's manifest."""
    folder = Path(home) / "outbound" / recipient / cycle
    folder.mkdir(parents=True, exist_ok=True)
    entry = write_file(folder, name, layout_name, blocks)
    merge_manifest(folder, cycle, recipient, [entry])
    return {"recipient": recipient, **entry}
