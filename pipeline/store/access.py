"""Who may use the store when: the home's lock, a busy store, and the read-only snapshot of the last
completed cycle that operators read while a cycle holds the live store.

- `home_lock(home)`: `<home>/fpls.lock` (flock) keeps two cycles, a key rotation and the operator commands
  that change the store apart; a second holder gets `StoreBusy` (exit 75), never a traceback.
- DuckDB itself lets one process write or many read: a store held by anyone else is also `StoreBusy`.
- `publish_snapshot(con, home)`: after a cycle is done, the store is checkpointed and copied byte for byte
  (encrypted stores stay encrypted with the same key) to `fpls.snapshot.duckdb` (temp file, fsync, rename).
  A query that finds the live store busy answers from it, labelled with the cycle it holds.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "fpls.lock"
SNAPSHOT_NAME = "fpls.snapshot.duckdb"


class StoreBusy(RuntimeError):
    """Another process holds the home's lock or the store (exit 75: try again later)."""


@contextmanager
def home_lock(home: Path):
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise StoreBusy(f"another cycle or store command holds {home / LOCK_NAME}; try again later") from exc
        yield
    finally:
        os.close(fd)


def lock_held(home: Path) -> bool:
    """Is the home's lock held by someone (a cycle, a rekey)? Does not take it."""
    path = Path(home) / LOCK_NAME
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def is_lock_conflict(exc: BaseException) -> bool:
    """A DuckDB error saying another process holds the file."""
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text or "resource temporarily" in text)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_copy(src: Path, dest: Path) -> Path:
    """Copy src to dest through a temp file beside dest: fsync, rename, fsync the folder."""
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with src.open("rb") as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 22)
            fout.flush()
            os.fsync(fout.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)
    return dest


def snapshot_path(home: Path) -> Path:
    return Path(home) / SNAPSHOT_NAME


def publish_snapshot(con, home: Path, db_name: str) -> Path:
    """Checkpoint the store (everything in the file, nothing in the WAL) and copy it as the snapshot."""
    con.execute("CHECKPOINT")
    return durable_copy(Path(home) / db_name, snapshot_path(home))
