"""Opening the store file: encryption at rest (where the key comes from) and a damaged file.

The key comes from `FPLS_DB_KEY` (the key itself) or `FPLS_DB_KEY_FILE` (a file holding it), never from
a command-line flag (it would show in `ps` and shell history). DuckDB encrypts the database file with
AES-GCM; writing needs its httpfs extension (OpenSSL), which the `duckdb-extension-httpfs` wheel ships
for this DuckDB version, so nothing is downloaded at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from pipeline.store.access import StoreBusy, is_lock_conflict

KEY_ENV, KEY_FILE_ENV = "FPLS_DB_KEY", "FPLS_DB_KEY_FILE"
CATALOG = "fpls"


class StoreKeyError(RuntimeError):
    """The store cannot be opened with the configured key (missing, wrong, or unreadable key file)."""


class StoreUnreadable(OSError):
    """The store file is damaged (not a DuckDB file, truncated): the operator restores it from a backup."""


def _busy(path: Path) -> StoreBusy:
    return StoreBusy(f"{path.name} is in use by another fpls process (a cycle, a report or a query); try again later")


def _unreadable(path: Path, exc: duckdb.Error) -> StoreUnreadable:
    reason = str(exc).splitlines()[0].replace(str(path), path.name)
    return StoreUnreadable(
        f"the store {path.name} cannot be opened ({reason}); if it is damaged, restore it "
        f"from a backup and run again — nothing in inbound/ was touched"
    )


def store_failure(exc: BaseException) -> tuple[str, int] | None:
    """A DuckDB error met while working (not opening) that is the store's state, not a bug: (message, sysexits
    status), else None. A checksum failure is a damaged block (74: restore from a backup; the files the run
    had claimed go back to inbound/ on the next run); a full disk is 74 too."""
    text = str(exc)
    first = text.splitlines()[0] if text else type(exc).__name__
    if "corrupt database file" in text.lower() or "checksum" in text.lower() or "invalidated" in text.lower():
        return (
            f"the store is damaged ({first}); restore it from a backup and run again: the files this run "
            f"had claimed go back to inbound/ then",
            74,
        )
    if "no space left" in text.lower() or "disk is full" in text.lower():
        return f"the disk is full while writing the store ({first}); free space and run again", 74
    return None


def configured_key() -> str | None:
    """The store key from the environment, or None when the store is not encrypted."""
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV]
    key_file = os.environ.get(KEY_FILE_ENV)
    if not key_file:
        return None
    try:
        key = Path(key_file).read_text().strip()
    except OSError as exc:
        raise StoreKeyError(f"cannot read the key file named by {KEY_FILE_ENV}: {exc.strerror}") from None
    if not key:
        raise StoreKeyError(f"the key file named by {KEY_FILE_ENV} is empty")
    return key


def _load_crypto(con: duckdb.DuckDBPyConnection) -> None:
    import duckdb_extension_httpfs as ext

    version = duckdb.__version__
    path = Path(ext.__file__).parent / "extensions" / f"v{version}" / "httpfs.duckdb_extension"
    if not path.exists():
        raise StoreKeyError(f"encryption needs duckdb-extension-httpfs built for DuckDB {version}")
    con.execute(f"LOAD '{path}'")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open_encrypted(path: Path, key: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the encrypted store attached as the default catalog."""
    con = duckdb.connect()
    _load_crypto(con)
    options = f"ENCRYPTION_KEY {_quote(key)}" + (", READ_ONLY" if read_only else "")
    try:
        con.execute(f"ATTACH {_quote(str(path))} AS {CATALOG} ({options})")
    except duckdb.Error as exc:
        con.close()
        raise _open_error(path, exc) from None
    con.execute(f"USE {CATALOG}")
    return con


def _open_error(path: Path, exc: duckdb.Error) -> Exception:
    """What an ATTACH / connect failure means to an operator: busy, a key problem, or a damaged file."""
    text = str(exc).lower()
    if is_lock_conflict(exc):
        return _busy(path)
    if "not encrypted" in text:
        return StoreKeyError(
            f"{path.name} is not encrypted but a key is configured: unset {KEY_ENV} / {KEY_FILE_ENV}, "
            f"or encrypt it with `fpls store rekey --new-key-file F`"
        )
    if "encryption key" in text or "encrypted" in text:
        return StoreKeyError(f"{path.name}: wrong encryption key (check {KEY_ENV} / {KEY_FILE_ENV})")
    return _unreadable(path, exc)


def open_plain(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        text = str(exc).lower()
        if "encrypted" in text and "not encrypted" not in text:
            raise StoreKeyError(f"{path.name} is encrypted: set {KEY_ENV} or {KEY_FILE_ENV}") from None
        raise _open_error(path, exc) from None


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _checkpoint(path: Path, key: str | None) -> None:
    """Open the store read-write with its current key, replay its WAL (a crash may leave one) into the file
    and checkpoint, so the file alone holds every committed change and no WAL is left to replay later."""
    con = open_encrypted(path, key) if key else open_plain(path)
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    if wal_path(path).exists() and wal_path(path).stat().st_size:
        raise StoreUnreadable(f"{path.name}: its WAL could not be checkpointed; nothing was changed")
    wal_path(path).unlink(missing_ok=True)


def rekey(path: Path, old_key: str | None, new_key: str | None) -> Path:
    """Re-encrypt (or encrypt, or decrypt) the store by copying it into a new file, then swap the files.

    DuckDB cannot change a file's key in place; a full copy is also how a key is rotated. The caller holds
    the home's lock (no cycle runs). The old WAL is checkpointed into the old file first (a WAL left beside
    the new file would be replayed into it, or refused under the new key), the copy is checkpointed and
    fsynced before the rename, and no WAL is left beside the result."""
    _checkpoint(path, old_key)
    tmp = path.with_name(path.name + ".rekey")
    tmp.unlink(missing_ok=True)
    wal_path(tmp).unlink(missing_ok=True)
    con = duckdb.connect()
    _load_crypto(con)
    old_opts = f" (ENCRYPTION_KEY {_quote(old_key)}, READ_ONLY)" if old_key else " (READ_ONLY)"
    new_opts = f" (ENCRYPTION_KEY {_quote(new_key)})" if new_key else ""
    try:
        con.execute(f"ATTACH {_quote(str(path))} AS old_store{old_opts}")
        con.execute(f"ATTACH {_quote(str(tmp))} AS new_store{new_opts}")
        con.execute("COPY FROM DATABASE old_store TO new_store")
        con.execute("CHECKPOINT new_store")
        con.execute("DETACH new_store")
        con.execute("DETACH old_store")
    except duckdb.Error as exc:
        tmp.unlink(missing_ok=True)
        wal_path(tmp).unlink(missing_ok=True)
        if "encryption key" in str(exc).lower() or "encrypted" in str(exc).lower():
            raise StoreKeyError(f"{path.name}: the current key does not open the store") from None
        raise
    finally:
        con.close()
    wal_path(tmp).unlink(missing_ok=True)  # checkpointed and detached: empty if present at all
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)
    wal_path(path).unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path
