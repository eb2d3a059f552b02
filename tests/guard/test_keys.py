"""API keys: stored hashed, shown once, verified by name."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from assay.errors import InputError
from assay.guard.keys import KEY_PREFIX, add_key, hash_key, load_keys, remove_key


def test_add_key_stores_only_a_salted_hash(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    key = add_key(path, "ci")
    other = add_key(path, "ops")
    assert key.startswith(KEY_PREFIX) and len(key) > 40
    assert key != other
    text = path.read_text()
    assert key not in text and other not in text
    data = json.loads(text)
    assert [k["name"] for k in data["keys"]] == ["ci", "ops"]
    assert data["keys"][0]["hash"] == hash_key(key, data["salt"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    store = load_keys(path)
    assert store.verify(key) == "ci"
    assert store.verify(other) == "ops"
    assert store.verify(key + "x") is None
    assert store.verify("") is None
    assert store.names == ["ci", "ops"]


def test_salt_differs_per_file(tmp_path: Path) -> None:
    add_key(tmp_path / "a.json", "x")
    add_key(tmp_path / "b.json", "x")
    salts = {json.loads((tmp_path / n).read_text())["salt"] for n in ("a.json", "b.json")}
    assert len(salts) == 2
    assert hash_key("k", "00" * 16) != hash_key("k", "01" * 16)


def test_yaml_keys_file_and_remove(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    key = add_key(path, "ci")
    assert "salt:" in path.read_text()
    assert load_keys(path).verify(key) == "ci"
    assert remove_key(path, "ci") is True
    assert remove_key(path, "ci") is False
    assert load_keys(path).verify(key) is None


def test_bad_names_and_files_are_input_errors(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    add_key(path, "ci")
    with pytest.raises(InputError, match="already exists"):
        add_key(path, "ci")
    with pytest.raises(InputError, match="key names"):
        add_key(path, "bad name!")
    with pytest.raises(InputError, match="not found"):
        load_keys(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(InputError, match=r"broken\.json"):
        load_keys(broken)
    broken.write_text(json.dumps({"salt": "zz", "keys": []}))
    with pytest.raises(InputError, match="salt"):
        load_keys(broken)
    broken.write_text(json.dumps({"salt": "00" * 16, "keys": [{"name": "x"}]}))
    with pytest.raises(InputError, match="entry 0"):
        load_keys(broken)
