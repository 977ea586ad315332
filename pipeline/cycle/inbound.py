"""Inbound protocol: partners, ready files, claim into work/, transmitter checks, archive and quarantine.

Which entries of `inbound/<submitter>/` are ready or refused, and claiming them, is `dropzone.py`. Claiming
renames an entry (atomic, same file system) into `work/<cycle>/<submitter>/`; afterwards the originals move,
byte for byte, to `archive/<cycle>/<submitter>/` or, if refused whole, to `quarantine/<cycle>/<submitter>/`
beside a `FILE.reason.json` holding codes and masked values only.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from pipeline import store
from pipeline.cycle import dropzone
from pipeline.cycle.context import CycleContext
from pipeline.files.codes import STATE_FIPS
from pipeline.files.layouts import YAML_LOADER, Layout
from pipeline.files.lines import first_overlong_line
from pipeline.files.read import max_line_bytes
from pipeline.files.writer import FILE_MODE, atomic_write
from pipeline.safeguards.faults import checkpoint
from pipeline.safeguards.masking import json_line

DONE = dropzone.DONE


@dataclass(frozen=True)
class Partner:
    id: str
    kind: str
    file_types: tuple[str, ...]
    stable_seconds: float | None = None  # the drop-zone window without a .done marker (None: the default)

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
    data = yaml.load(path.read_text(), Loader=YAML_LOADER) or {}  # over a thousand employers: libyaml
    items = data.get("partners", data) if isinstance(data, dict) else data
    if isinstance(items, dict):
        items = [{"id": k, **(v or {})} for k, v in items.items()]
    partners = {}
    for item in items or []:
        pid = str(item.get("id") or item.get("partner_id") or "")
        types = item.get("file_types") or item.get("allowed_file_types") or item.get("allowed") or []
        window = item.get("stable_seconds")
        if pid:
            partners[pid] = Partner(
                pid, str(item.get("kind", "")), tuple(str(t) for t in types), None if window is None else float(window)
            )
    return partners


def windows(home: Path) -> dict[str, float]:
    """Each partner's drop-zone window (partners.yaml `stable_seconds`) where it sets one."""
    return {p.id: p.stable_seconds for p in load_partners(home).values() if p.stable_seconds is not None}


def claimable(home: Path, poll_seconds: float) -> list[dropzone.Entry]:
    """Ready files and refused entries of inbound/ (dropzone.py), each partner with its own window."""
    return dropzone.claimable(Path(home) / "inbound", poll_seconds, windows(home))


def ready_files(inbound: Path, poll_seconds: float) -> list[Path]:
    """The ready files of inbound/ (refused entries aside), with the default window (dropzone.py)."""
    return [e.path for e in dropzone.claimable(inbound, poll_seconds) if e.refusal is None]


def work_files(work: Path) -> list[Path]:
    """Every claimed entry of a cycle (a refused symlink or folder too: it is recorded and quarantined)."""
    if not work.is_dir():
        return []
    return sorted(
        f
        for sub in sorted(work.iterdir())
        if sub.is_dir() and not sub.is_symlink()
        for f in sorted(sub.iterdir())
        if not f.name.startswith(".")
    )


def entry_refusal(path: Path) -> str | None:
    """Why a claimed entry cannot be read (dropzone.REFUSALS code), from lstat: never followed."""
    entry = dropzone.classify(path)
    return None if entry is None or entry.refusal is None else dropzone.REFUSALS[entry.refusal]


def sha256_file(path: Path) -> str:
    return file_digests(path)[0]


def file_digests(path: Path) -> tuple[str, str]:
    """(sha256 of the bytes, sha256 of the content with CRLF read as LF), in one pass: the second makes the
    same records resent with other line endings a duplicate."""
    raw, content, pending = hashlib.sha256(), hashlib.sha256(), b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            raw.update(chunk)
            data = pending + chunk
            pending = b"\r" if data.endswith(b"\r") else b""
            content.update((data[:-1] if pending else data).replace(b"\r\n", b"\n"))
    content.update(pending)
    return raw.hexdigest(), content.hexdigest()


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


PARTNER_IN_NAME = re.compile(r"(?:^|[._])((?:EMP|INS|FI|SDNH|SWA)-[A-Z0-9]+)(?=[._]|$)")
# The column of a CSV that names the employer who sent it, and the rows where it does.
CSV_SENDER_COLUMN = {"new_hire_csv": ("employer_fein", None), "etermination": ("employer_fein", None)}
CSV_SENDER_COLUMN["eiwo_mser_csv"] = ("employer_fein", None)  # an MSER registration registers the folder's own FEIN
CSV_SENDER_COLUMN["debt_inquiry"] = ("payer_id", ("payer_type", "EMP"))


def csv_sender_problem(partner: Partner, layout: Layout, path: Path) -> str | None:
    """A CSV names its sender in its file name and rows (DESIGN §1): a partner id in the name other than the
    folder's, or an employer's file whose rows name another well-formed FEIN, → reason; else None."""
    if layout.format != "csv":
        return None
    named = {m.group(1) for m in PARTNER_IN_NAME.finditer(path.name.upper())}
    if named and partner.id not in named:
        return f"the file name names {', '.join(sorted(named))}, folder is {partner.id}"
    if not partner.id.startswith("EMP-") or layout.name not in CSV_SENDER_COLUMN:
        return None
    column, where = CSV_SENDER_COLUMN[layout.name]
    if first_overlong_line(path, max_line_bytes(layout)) is not None:
        return None  # never read whole: validation refuses it as LINE_TOO_LONG
    try:
        rows = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True)
        rows = rows.rename({c: c.strip().lower() for c in rows.columns})
        if where is not None and where[0] in rows.columns:
            rows = rows.filter(pl.col(where[0]).str.strip_chars() == where[1])
        # Only a well-formed FEIN names an employer; a malformed one is one record's error for validation.
        values = rows.get_column(column).str.strip_chars()
        named = set(values.filter(values.str.contains(r"^\d{9}$")).unique().to_list())
    except Exception:  # noqa: BLE001 - a CSV polars cannot read is the validation's to reject
        return None
    others = sorted(named - {partner.id.removeprefix("EMP-")})
    if others:
        return (
            f"{len(others)} other employer(s) named in column {column} (e.g. EMP-{others[0]}), folder is {partner.id}"
        )
    return None


def move_original(path: Path, dest_dir: Path) -> Path:
    """Rename a claimed entry into archive/ or quarantine/ (same bytes, same name). A regular file gets mode
    0640 (the submitter's own mode does not travel into our folders); a symlink is moved as a link and never
    chmod'ed (that would change its target's mode)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / path.name
    if os.path.lexists(path):
        os.replace(path, dest)
        if stat.S_ISREG(os.lstat(dest).st_mode):
            os.chmod(dest, FILE_MODE, follow_symlinks=False)
    return dest


def reason_name(file_name: str) -> str:
    """`FILE.reason.json`, kept short enough for any file system (a long name is cut and given a digest)."""
    if len(file_name.encode("utf-8", "surrogateescape")) <= dropzone.NAME_MAX_BYTES:
        return f"{file_name}.reason.json"
    digest = hashlib.sha256(file_name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{file_name[:100]}~{digest}.reason.json"


def write_reason(dest_dir: Path, file_name: str, reason: dict) -> Path:
    text = json_line(reason, indent=2) + "\n"
    return atomic_write(dest_dir / reason_name(file_name), text.encode())


@dataclass
class ClaimResult:
    files: int = 0


def claim_ready_files(ctx: CycleContext) -> ClaimResult:
    """Claim stage: move every ready file into work/<cycle>/ (once per cycle: a resumed cycle claims nothing new)."""
    if store.stage_done(ctx.con, ctx.cycle_id, "claim"):
        return ClaimResult()
    files = dropzone.claim(claimable(ctx.home, ctx.poll_seconds), ctx.home / "work" / ctx.cycle_id, checkpoint)
    ctx.log.event("claimed", files=[f"{p.parent.name}/{p.name}" for p in files])
    with store.transaction(ctx.con):
        store.mark_stage(ctx.con, ctx.cycle_id, "claim")
    return ClaimResult(len(files))
