"""The drop zone `inbound/<submitter>/`: which entries are ready, which are refused, claiming them into work/,
and giving back files a lost cycle had claimed.

Ready (DESIGN §5): a regular file whose size and mtime do not change across the poll, and either its
`FILE.done` marker exists, or it has been still for the partner's window (`stable_seconds` in
partners.yaml; DEFAULT_STABLE_SECONDS, or `FPLS_STABLE_SECONDS`, otherwise) and its last byte ends a line:
an upload whose last line has no terminator is not finished, however long it has been still. A `.done`
marker alone is not trusted either (a marker written before the data is complete would hand over a
truncated file). Names starting with a dot are uploads in progress and are left alone.

Refused, never read, followed or chmod'ed: a symlink, a folder or any other entry that is not a regular file,
a name longer than NAME_MAX_BYTES or holding control characters, a regular file the service account cannot
open (once it is still, like any file). The entry itself is renamed (a symlink's target is never touched)
into work/ like a ready file, so the load stage records the refusal in the ledger (the submitter's ACK says
why) and the archive stage moves it to quarantine/ beside its reason: one partner's bad entry never holds up
the others.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

DONE = ".done"
DEFAULT_STABLE_SECONDS = 300.0
NAME_MAX_BYTES = 200
REFUSALS = {
    "SYMLINK": "ENTRY_IS_SYMLINK",
    "FOLDER": "ENTRY_NOT_A_FILE",
    "SPECIAL": "ENTRY_NOT_A_FILE",
    "NAME": "FILE_NAME_REFUSED",
    "UNREADABLE": "FILE_UNREADABLE",
}


def default_window() -> float:
    return float(os.environ.get("FPLS_STABLE_SECONDS", DEFAULT_STABLE_SECONDS))


@dataclass(frozen=True)
class Entry:
    path: Path
    size: int
    mtime_ns: int
    refusal: str | None = None  # a REFUSALS key, or None for a regular readable file

    @property
    def seen(self) -> tuple[int, int]:
        return self.size, self.mtime_ns


def name_problem(name: str) -> bool:
    return len(name.encode("utf-8", "surrogateescape")) > NAME_MAX_BYTES or any(
        ord(c) < 32 or ord(c) == 127 for c in name
    )


def _readable(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except PermissionError:
        return False
    except OSError:
        return True  # gone or changing: the next poll decides
    os.close(fd)
    return True


def classify(path: Path) -> Entry | None:
    """What an entry of a submitter folder is, from lstat (nothing followed); None when it vanished."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    refusal = None
    if stat.S_ISLNK(st.st_mode):
        refusal = "SYMLINK"
    elif stat.S_ISDIR(st.st_mode):
        refusal = "FOLDER"
    elif not stat.S_ISREG(st.st_mode):
        refusal = "SPECIAL"
    elif name_problem(path.name):
        refusal = "NAME"
    elif not _readable(path):
        refusal = "UNREADABLE"
    return Entry(path, st.st_size, st.st_mtime_ns, refusal)


def _is_marker(path: Path) -> bool:
    return path.name.endswith(DONE) and path.name != DONE


def submitter_folders(inbound: Path) -> list[Path]:
    """Real folders of inbound/ (a symlinked submitter folder is not followed: it is skipped)."""
    if not inbound.is_dir() or inbound.is_symlink():
        return []
    return sorted(p for p in inbound.iterdir() if not p.is_symlink() and p.is_dir())


def scan(inbound: Path) -> dict[Path, Entry]:
    out = {}
    for sub in submitter_folders(inbound):
        for path in sorted(sub.iterdir()):
            if path.name.startswith("."):
                continue
            if _is_marker(path) and _marker_only(path):
                continue
            entry = classify(path)
            if entry is not None:
                out[path] = entry
    return out


def _marker_only(path: Path) -> bool:
    """A `.done` marker (beside its file, or before it arrives): not an entry of its own."""
    if os.path.lexists(str(path)[: -len(DONE)]):
        return True
    return not path.is_symlink() and path.is_file() and path.stat().st_size == 0


def _has_marker(path: Path) -> bool:
    marker = Path(str(path) + DONE)
    return os.path.lexists(marker) and not marker.is_symlink() and marker.is_file()


def ends_with_newline(path: Path, size: int) -> bool:
    if size == 0:
        return False
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        return os.pread(fd, 1, size - 1) == b"\n"
    finally:
        os.close(fd)


def _still(entry: Entry, window: float, now: float) -> bool:
    return now - entry.mtime_ns / 1e9 >= window


def claimable(inbound: Path, poll_seconds: float, windows: dict[str, float] | None = None) -> list[Entry]:
    """Entries to claim now: ready files and refused entries (see the module docstring), in path order."""
    windows = windows or {}
    first = scan(inbound)
    if first and poll_seconds > 0:
        time.sleep(poll_seconds)
    second, now, out = scan(inbound), time.time(), []
    for path, entry in sorted(second.items()):
        if entry.refusal in ("SYMLINK", "FOLDER", "SPECIAL", "NAME"):
            out.append(entry)
            continue
        before = first.get(path)
        if before is None or before.seen != entry.seen or before.refusal != entry.refusal:
            continue  # new or still changing: next cycle
        window = windows.get(path.parent.name, default_window())
        if _has_marker(path):
            out.append(entry)
        elif _still(entry, window, now) and (entry.refusal == "UNREADABLE" or ends_with_newline(path, entry.size)):
            out.append(entry)
    return out


def claim(entries: list[Entry], work: Path, checkpoint) -> list[Path]:
    """Rename each entry into work/<submitter>/ (atomic, the entry itself: a symlink stays a symlink); drop
    its .done marker."""
    claimed = []
    for entry in entries:
        src = entry.path
        dest_dir = work / src.parent.name
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / src.name
        n = 1
        while os.path.lexists(dest):
            dest, n = dest_dir / f"{src.name}.{n}", n + 1
        os.replace(src, dest)
        marker = Path(str(src) + DONE)
        if os.path.lexists(marker) and not marker.is_dir():
            marker.unlink()
        claimed.append(dest)
        checkpoint("claim")
    return claimed


def give_back(work_cycle: Path, inbound: Path, keep: set[tuple[str, str]]) -> list[str]:
    """Move the entries of a work/<cycle>/ folder the store does not know back to inbound/<submitter>/ with a
    `.done` marker (they were whole when claimed), then remove the emptied folders. `keep`: (submitter, name)
    the store's ledger holds for that cycle (left where they are). Returns what moved, as submitter/name."""
    moved = []
    for sub in sorted(p for p in work_cycle.iterdir() if p.is_dir() and not p.is_symlink()):
        for path in sorted(sub.iterdir()):
            if (sub.name, path.name) in keep:
                continue
            dest_dir = inbound / sub.name
            dest_dir.mkdir(parents=True, exist_ok=True)
            dest, n = dest_dir / path.name, 1
            while os.path.lexists(dest):
                dest, n = dest_dir / f"{path.name}.{n}", n + 1
            os.replace(path, dest)
            if dest.is_file() and not dest.is_symlink():
                Path(str(dest) + DONE).touch()
            moved.append(f"{sub.name}/{dest.name}")
        _rmdir_quiet(sub)
    _rmdir_quiet(work_cycle)
    return moved


def _rmdir_quiet(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
