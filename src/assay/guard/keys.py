"""API keys for the guard service, stored hashed.

A keys file holds a random per-file salt and, per key, a name and
``sha256(salt + key)``; the plaintext is printed once by :func:`add_key` and never
stored. A fast salted hash (not scrypt or PBKDF2) is enough here because the keys are
256-bit random tokens, not passwords: slow hashing protects guessable secrets, and a
random token cannot be guessed however fast the hash is. A fast hash keeps checking a
key at every request to microseconds, which the throughput target needs.

File format (JSON, or YAML when the name ends in ``.yaml``/``.yml``)::

    {"version": 1, "algorithm": "sha256", "salt": "<hex>",
     "keys": [{"name": "ci", "hash": "<hex>"}]}
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.errors import InputError

__all__ = ["KEY_PREFIX", "KeyStore", "add_key", "hash_key", "load_keys", "remove_key"]

#: Every generated key starts with this, so a leaked one is easy to recognise in a scan.
KEY_PREFIX = "assay_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def hash_key(key: str, salt: str) -> str:
    """The stored form of ``key``: hex ``sha256(salt + key)``."""
    return hashlib.sha256(bytes.fromhex(salt) + key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyStore:
    """The keys of one file: who is who, by hash.

    Attributes:
        salt: the file's salt (hex).
        hashes: key hash -> key name.
    """

    salt: str
    hashes: dict[str, str]

    def verify(self, key: str) -> str | None:
        """The name of ``key``, or ``None`` when it is not a known key."""
        # A lookup by hash leaks nothing useful through timing: the attacker controls the
        # key, not its salted hash, so a near-miss tells them nothing about a real key.
        return self.hashes.get(hash_key(key, self.salt))

    @property
    def names(self) -> list[str]:
        return sorted(self.hashes.values())


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("keys file not found", source=str(path)) from exc
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # json.JSONDecodeError, yaml.YAMLError
        raise InputError(f"not valid: {exc}", source=str(path)) from exc
    if not isinstance(data, dict):
        raise InputError("expected a mapping with 'salt' and 'keys'", source=str(path))
    return data


def _parse(path: Path, data: dict[str, Any]) -> KeyStore:
    salt = data.get("salt")
    if not isinstance(salt, str) or not re.fullmatch(r"(?:[0-9a-f]{2}){8,}", salt):
        raise InputError("expected a hex salt of at least 8 bytes", source=str(path), field="salt")
    if data.get("algorithm", "sha256") != "sha256":
        raise InputError(
            f"unsupported algorithm {data.get('algorithm')!r}", source=str(path), field="algorithm"
        )
    keys = data.get("keys", [])
    if not isinstance(keys, list):
        raise InputError("expected a list", source=str(path), field="keys")
    hashes: dict[str, str] = {}
    for i, entry in enumerate(keys):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("hash"), str)
        ):
            raise InputError(
                f"entry {i} needs a 'name' and a 'hash'", source=str(path), field="keys"
            )
        hashes[entry["hash"].lower()] = entry["name"]
    return KeyStore(salt=salt, hashes=hashes)


def load_keys(path: str | Path) -> KeyStore:
    """Read a keys file.

    Raises:
        InputError: the file is missing or malformed.
    """
    path = Path(path)
    return _parse(path, _read(path))


def _write(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, readable by the owner only (hashes are not secrets, but still)."""
    if path.suffix in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(data, sort_keys=False)
    else:
        text = json.dumps(data, indent=2) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def add_key(path: str | Path, name: str) -> str:
    """Create a key called ``name`` in the keys file at ``path`` (created if missing).

    Returns:
        The plaintext key. It is not stored anywhere: show it to the user once.

    Raises:
        InputError: the name is malformed or already used, or the file is malformed.
    """
    path = Path(path)
    if not _NAME.match(name):
        raise InputError("key names are 1-64 letters, digits, '_', '.', '@' or '-'", field="name")
    if path.exists():
        data = _read(path)
        _parse(path, data)
    else:
        data = {"version": 1, "algorithm": "sha256", "salt": secrets.token_hex(16), "keys": []}
    if any(entry.get("name") == name for entry in data["keys"]):
        raise InputError(f"a key named {name!r} already exists", source=str(path), field="name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    data["keys"].append({"name": name, "hash": hash_key(key, data["salt"])})
    _write(path, data)
    return key


def remove_key(path: str | Path, name: str) -> bool:
    """Revoke the key called ``name``; returns whether there was one."""
    path = Path(path)
    data = _read(path)
    _parse(path, data)
    kept = [entry for entry in data["keys"] if entry.get("name") != name]
    if len(kept) == len(data["keys"]):
        return False
    data["keys"] = kept
    _write(path, data)
    return True
