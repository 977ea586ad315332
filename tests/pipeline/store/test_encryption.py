"""Encryption at rest: an encrypted store holds no plaintext, needs its key, and rotates by copy."""

from __future__ import annotations

import os
import subprocess

from tests.pipeline.cycle.builder import build_home
from tests.pipeline.cycle.conftest import FPLS, ROOT

SSN = b"123456781"  # ANNA SMITH in the builder home


def _fpls(*args: str, key: str | None = None, key_file=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FPLS_")} | {"FPLS_POLL_SECONDS": "0"}
    if key:
        env["FPLS_DB_KEY"] = key
    if key_file:
        env["FPLS_DB_KEY_FILE"] = str(key_file)
    return subprocess.run([*FPLS, *args], capture_output=True, text=True, env=env, cwd=ROOT)


def test_encrypted_store_end_to_end(tmp_path):
    home = build_home(tmp_path / "home", bad=False)
    assert _fpls("run", "--home", str(home), "--as-of", "2026-11-02", key="first-key").returncode == 0
    raw = (home / "fpls.duckdb").read_bytes()
    assert SSN not in raw and b"SMITH" not in raw
    query = ("query", "person", "--home", str(home), "--ssn", SSN.decode())
    assert _fpls(*query, key="first-key").returncode == 0
    missing, wrong = _fpls(*query), _fpls(*query, key="not-the-key")
    assert missing.returncode == 78 and "encrypted" in missing.stderr and "FPLS_DB_KEY" in missing.stderr
    assert wrong.returncode == 78 and "wrong encryption key" in wrong.stderr
    assert "Traceback" not in missing.stderr + wrong.stderr


def test_key_rotation_by_copy(tmp_path):
    home = build_home(tmp_path / "home", bad=False)
    old_key, new_key = tmp_path / "old.key", tmp_path / "new.key"
    old_key.write_text("old-secret\n")
    new_key.write_text("new-secret\n")
    assert _fpls("run", "--home", str(home), "--as-of", "2026-11-02", key_file=old_key).returncode == 0
    rotated = _fpls("store", "rekey", "--home", str(home), "--new-key-file", str(new_key), key_file=old_key)
    assert rotated.returncode == 0, rotated.stderr
    query = ("query", "person", "--home", str(home), "--ssn", SSN.decode(), "--json")
    assert _fpls(*query, key_file=old_key).returncode == 78
    after = _fpls(*query, key_file=new_key)
    assert after.returncode == 0 and '"member_id"' in after.stdout
    assert not list(home.glob("*.rekey"))


def test_plain_store_can_be_encrypted_later(tmp_path):
    home = build_home(tmp_path / "home", bad=False)
    assert _fpls("run", "--home", str(home), "--as-of", "2026-11-02").returncode == 0
    key = tmp_path / "k"
    key.write_text("later-key")
    assert _fpls("store", "rekey", "--home", str(home), "--new-key-file", str(key)).returncode == 0
    assert SSN not in (home / "fpls.duckdb").read_bytes()
    assert _fpls("query", "person", "--home", str(home), "--ssn", SSN.decode(), key_file=key).returncode == 0
