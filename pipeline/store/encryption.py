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

KEY_ENV, KEY_FILE_ENV = "FPLS_DB_KEY", "FPLS_DB_KEY_FILE"
CATALOG = "fpls"


class StoreKeyError(RuntimeError):
    """The store cannot be opened with the configured key (missing, wrong, or unreadable key file)."""


class StoreUnreadable(OSError):
    """The store file is damaged (not a DuckDB file, truncated): the operator restores it from a backup."""


def _unreadable(path: Path, exc: duckdb.Error) -> StoreUnreadable:
    reason = str(exc).splitlines()[0].replace(str(path), path.name)
    return StoreUnreadable(
        f"the store {path.name} cannot be opened ({reason}); if it is damaged, restore it "
        f"from a backup and run again — nothing in inbound/ was touched"
    )


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
        if "encryption key" in str(exc).lower() or "encrypted" in str(exc).lower():
            raise StoreKeyError(f"{path.name}: wrong encryption key (check {KEY_ENV} / {KEY_FILE_ENV})") from None
        raise _unreadable(path, exc) from None
    con.execute(f"USE {CATALOG}")
    return con


def open_plain(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.CatalogException as exc:
        if "encrypted" in str(exc).lower():
            raise StoreKeyError(f"{path.name} is encrypted: set {KEY_ENV} or {KEY_FILE_ENV}") from None
        raise
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise  # another process holds the store: the callers' "busy" handling applies
        raise _unreadable(path, exc) from None


def rekey(path: Path, old_key: str | None, new_key: str | None) -> Path:
    """Re-encrypt (or encrypt, or decrypt) the store by copying it into a new file, then swap the files.

    DuckDB cannot change a file's key in place; a full copy is also how a key is rotated."""
    tmp = path.with_name(path.name + ".rekey")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect()
    _load_crypto(con)
    old_opts = f" (ENCRYPTION_KEY {_quote(old_key)}, READ_ONLY)" if old_key else " (READ_ONLY)"
    new_opts = f" (ENCRYPTION_KEY {_quote(new_key)})" if new_key else ""
    try:
        con.execute(f"ATTACH {_quote(str(path))} AS old_store{old_opts}")
        con.execute(f"ATTACH {_quote(str(tmp))} AS new_store{new_opts}")
        con.execute("COPY FROM DATABASE old_store TO new_store")
    except duckdb.Error as exc:
        tmp.unlink(missing_ok=True)
        if "encryption key" in str(exc).lower() or "encrypted" in str(exc).lower():
            raise StoreKeyError(f"{path.name}: the current key does not open the store") from None
        raise
    finally:
        con.close()
    os.replace(tmp, path)
    return path
