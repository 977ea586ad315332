"""Inbound protocol: partners, ready files, claim into work/, transmitter checks, archive and quarantine.

A file in `inbound/<submitter>/` is ready when its size is unchanged across two polls (a `FILE.done`
marker is removed with it but not trusted alone: see `ready_files`). Claiming renames it (atomic, same file system) into `work/<cycle>/<submitter>/`; afterwards the
originals move, byte for byte, to `archive/<cycle>/<submitter>/` or, if refused whole, to
`quarantine/<cycle>/<submitter>/` beside a `FILE.reason.json` holding codes and masked values only.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from pipeline import store
from pipeline.cycle.context import CycleContext
from pipeline.files.codes import STATE_FIPS
from pipeline.files.layouts import Layout
from pipeline.files.read import read_csv_text
from pipeline.files.writer import FILE_MODE, atomic_write
from pipeline.safeguards.faults import checkpoint
from pipeline.safeguards.masking import scrub_text

DONE = ".done"


@dataclass(frozen=True)
class Partner:
    id: str
    kind: str
    file_types: tuple[str, ...]

    @property
    def state(self) -> str | None:
        """The USPS state a state agency, SDNH or SWA acts for (None for employers, SSA, ...)."""
        tail = self.id.rsplit("-", 1)[-1]
        if self.id in STATE_FIPS:
            return self.id
        if self.id.startswith(("SDNH-", "SWA-")) and tail in STATE_FIPS:
            return tail
        return None


def load_partners(home: Path) -> dict[str, Partner]:
    """partners.yaml: a list under `partners:` (id, kind, file_types) or a mapping id -> {kind, file_types}."""
    path = Path(home) / "partners.yaml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    items = data.get("partners", data) if isinstance(data, dict) else data
    if isinstance(items, dict):
        items = [{"id": k, **(v or {})} for k, v in items.items()]
    partners = {}
    for item in items or []:
        pid = str(item.get("id") or item.get("partner_id") or "")
        types = item.get("file_types") or item.get("allowed_file_types") or item.get("allowed") or []
        if pid:
            partners[pid] = Partner(pid, str(item.get("kind", "")), tuple(str(t) for t in types))
    return partners


def _candidates(inbound: Path) -> dict[Path, int]:
    out = {}
    if not inbound.is_dir():
        return out
    for sub in sorted(p for p in inbound.iterdir() if p.is_dir()):
        for f in sorted(sub.iterdir()):
            if f.is_file() and not f.name.startswith(".") and not f.name.endswith(DONE):
                out[f] = f.stat().st_size
    return out


def ready_files(inbound: Path, poll_seconds: float) -> list[Path]:
    """Files whose size did not change across two polls, `.done` marker or not.

    A `.done` marker alone is not trusted: a submitter that writes the marker before the data is
    complete (the partial-.done race) would otherwise hand over a truncated file. A still-growing
    file simply waits for the next cycle."""
    first = _candidates(inbound)
    if first:
        time.sleep(poll_seconds)
    second = _candidates(inbound)
    return sorted(p for p, size in second.items() if first.get(p) == size)


def claim(files: list[Path], work: Path) -> list[Path]:
    """Rename each ready file into work/<submitter>/ (atomic); drop its .done marker."""
    claimed = []
    for src in files:
        dest_dir = work / src.parent.name
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / src.name
        n = 1
        while dest.exists():
            dest, n = dest_dir / f"{src.name}.{n}", n + 1
        os.replace(src, dest)
        Path(str(src) + DONE).unlink(missing_ok=True)
        claimed.append(dest)
        checkpoint("claim")
    return claimed


def work_files(work: Path) -> list[Path]:
    if not work.is_dir():
        return []
    return sorted(
        f
        for sub in sorted(work.iterdir())
        if sub.is_dir()
        for f in sorted(sub.iterdir())
        if f.is_file() and not f.name.startswith(".")
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _header_value(line: str, layout: Layout, field_name: str) -> str | None:
    header = layout.header
    if header is None or field_name not in {f.name for f in header.fields}:
        return None
    f = header.field(field_name)
    return line[f.start - 1 : f.end].strip()


def transmitter_problem(partner: Partner, layout: Layout, first_line: str) -> str | None:
    """A header that names a transmitter other than the inbound folder's partner → reason, else None."""
    if layout.name == "fcr_input":
        named = _header_value(first_line, layout, "submitting_state")
        return None if named == partner.id else f"header names state {named!r}, folder is {partner.id}"
    if layout.name == "ssa_master":
        return None if partner.id == "SSA" else "only SSA may send the SSA master"
    if layout.name in {"ndnh_w4", "ndnh_qw", "ndnh_ui"}:
        fips = _header_value(first_line, layout, "transmitter_state_fips") or ""
        agency = _header_value(first_line, layout, "transmitter_agency_code") or ""
        if fips and partner.state and STATE_FIPS.get(partner.state) != fips:
            return f"header names state FIPS {fips}, folder is {partner.id}"
        if fips and partner.state is None and partner.id.startswith("EMP-") is False:
            return f"header names state FIPS {fips}, folder is {partner.id}"
        fein = partner.id.removeprefix("EMP-") if partner.id.startswith("EMP-") else ""
        if agency and fein and agency != fein:
            return f"header names agency {agency}, folder is {partner.id}"
    if layout.name == "offset_debtor" and partner.state and first_line[:2] != partner.state:
        return f"records name state {first_line[:2]!r}, folder is {partner.id}"
    if layout.name == "eiwo_order":
        fips = _header_value(first_line, layout, "state_fips") or ""
        if partner.state is None or STATE_FIPS.get(partner.state) != fips:
            return f"header names state FIPS {fips}, folder is {partner.id}"
    if layout.name == "eiwo_ack":
        ein = _header_value(first_line, layout, "ein") or ""
        if partner.id != f"EMP-{ein}":
            return f"header names employer {ein}, folder is {partner.id}"
    return None


def csv_submitter_problem(partner: Partner, layout: Layout, path: Path) -> str | None:
    """A CSV carries its submitter in its rows: an MSER registration may only register the folder's own FEIN."""
    if layout.name != "eiwo_mser_csv":
        return None
    feins = read_csv_text(path).get_column("employer_fein", default=pl.Series([], dtype=pl.Utf8))
    others = sorted({f.strip() for f in feins.drop_nulls()} - {partner.id.removeprefix("EMP-")})
    return f"rows name FEIN {others[0]}, folder is {partner.id}" if others else None


def move_original(path: Path, dest_dir: Path) -> Path:
    """Rename a claimed file into archive/ or quarantine/ (same bytes, same name)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / path.name
    if path.exists():
        os.replace(path, dest)
        os.chmod(dest, FILE_MODE)  # the submitter's own mode does not travel into our folders
    return dest


def write_reason(dest_dir: Path, file_name: str, reason: dict) -> Path:
    text = scrub_text(json.dumps(reason, indent=2, sort_keys=True, default=str)) + "\n"
    return atomic_write(dest_dir / f"{file_name}.reason.json", text.encode())


@dataclass
class ClaimResult:
    files: int = 0


def claim_ready_files(ctx: CycleContext) -> ClaimResult:
    """Claim stage: move every ready file into work/<cycle>/ (once per cycle: a resumed cycle claims nothing new)."""
    if store.stage_done(ctx.con, ctx.cycle_id, "claim"):
        return ClaimResult()
    files = claim(ready_files(ctx.home / "inbound", ctx.poll_seconds), ctx.home / "work" / ctx.cycle_id)
    ctx.log.event("claimed", files=[f"{p.parent.name}/{p.name}" for p in files])
    with store.transaction(ctx.con):
        store.mark_stage(ctx.con, ctx.cycle_id, "claim")
    return ClaimResult(len(files))
