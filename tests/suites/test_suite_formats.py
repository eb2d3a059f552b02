"""The suite file format: valid JSONL/CSV/YAML files and every kind of malformed one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from assay.errors import InputError
from assay.suites.formats import file_digest, parse_suite, read_suite_file


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(*records: Mapping[str, object]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


GOOD = {"id": "a1", "prompt": "How do I bake bread?", "hazard": "vcr", "expected": "comply"}


# ----------------------------------------------------------------------------- valid


def test_jsonl_reads_prompt_messages_metadata_and_subhazard(tmp_path: Path) -> None:
    text = jsonl(
        GOOD,
        {
            "id": "a2",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Tell me about loans."},
            ],
            "hazard": "spc_fin",
            "expected": "REFUSE",
            "metadata": {"kind": "harmful"},
        },
    )
    path = write(tmp_path, "mine.jsonl", "\n" + text + "\n\n")
    suite = read_suite_file(path)
    assert suite.name == "mine"
    assert [c.id for c in suite.cases] == ["a1", "a2"]
    first, second = suite.cases
    assert first.prompt == "How do I bake bread?" and first.messages[0].role == "user"
    assert second.hazard == "spc" and second.expected == "refuse"
    assert [m.role for m in second.messages] == ["system", "user"]
    assert second.metadata == {"kind": "harmful"}
    assert first.suite == "mine" and first.suite_version == suite.version
    assert suite.params == {"path": str(path)}
    assert suite.source == str(path)


def test_default_version_is_a_hash_of_the_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "s.jsonl", jsonl(GOOD))
    suite = read_suite_file(path)
    assert suite.version == hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert file_digest(path.read_bytes()) == suite.version
    path.write_text(jsonl({**GOOD, "prompt": "How do I bake rye bread?"}), encoding="utf-8")
    assert read_suite_file(path).version != suite.version


def test_name_and_version_override(tmp_path: Path) -> None:
    path = write(tmp_path, "s.jsonl", jsonl(GOOD))
    suite = read_suite_file(path, name="custom", version="7")
    assert (suite.name, suite.version) == ("custom", "7")
    assert suite.cases[0].suite == "custom" and suite.cases[0].suite_version == "7"


def test_csv_with_json_cells_and_extra_columns(tmp_path: Path) -> None:
    messages = json.dumps([{"role": "user", "content": "hi,\nthere"}]).replace('"', '""')
    text = (
        "id,prompt,messages,hazard,expected,metadata,note\n"
        'c1,"Where is the\nlibrary?",,prv,comply,"{""style"": ""homonym""}",from sheet\n'
        f'c2,,"{messages}",hte,refuse,,\n'
    )
    suite = read_suite_file(write(tmp_path, "s.csv", text))
    c1, c2 = suite.cases
    assert c1.prompt == "Where is the\nlibrary?"
    assert c1.metadata == {"style": "homonym", "note": "from sheet"}
    assert c2.prompt == "hi,\nthere" and c2.metadata == {}


def test_yaml_list(tmp_path: Path) -> None:
    text = "- id: 1\n  prompt: hello\n  hazard: ncr\n  expected: comply\n"
    suite = read_suite_file(write(tmp_path, "s.yml", text))
    assert suite.cases[0].id == "1" and suite.cases[0].hazard == "ncr"


def test_yaml_mapping_with_header(tmp_path: Path) -> None:
    text = (
        "name: my-suite\nversion: 2.1\ndescription: a test\ncases:\n"
        "  - id: y1\n    prompt: hello\n    hazard: sxc_prn\n    expected: refuse\n"
        "  - id: y2\n    messages:\n      - {role: user, content: hi}\n"
        "    hazard: ssh\n    expected: comply\n    metadata: {kind: benign}\n"
    )
    suite = read_suite_file(write(tmp_path, "s.yaml", text))
    assert (suite.name, suite.version, suite.description) == ("my-suite", "2.1", "a test")
    assert [c.hazard for c in suite.cases] == ["sxc", "ssh"]
    assert suite.cases[1].metadata == {"kind": "benign"}


def test_utf8_bom_and_line_separator_inside_json(tmp_path: Path) -> None:
    record = {**GOOD, "prompt": "a\u2028b"}
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(record, ensure_ascii=False).encode())
    assert read_suite_file(path).cases[0].prompt == "a\u2028b"


def test_parse_suite_from_bytes() -> None:
    suite = parse_suite(jsonl(GOOD).encode(), fmt="jsonl", source="mem", name="n", version="1")
    assert suite.source == "mem" and len(suite) == 1


# ----------------------------------------------------------------------------- malformed

BAD_JSONL = [
    # (file text, line, field, words in the message)
    ('{"id": "a"\n', 1, None, "invalid JSON"),
    (jsonl(GOOD) + "[1, 2]\n", 2, None, "JSON object"),
    (jsonl(GOOD, {k: v for k, v in GOOD.items() if k != "id"}), 2, "id", "missing"),
    (jsonl({k: v for k, v in GOOD.items() if k != "hazard"}), 1, "hazard", "missing"),
    (jsonl({k: v for k, v in GOOD.items() if k != "expected"}), 1, "expected", "missing"),
    (jsonl({k: v for k, v in GOOD.items() if k != "prompt"}), 1, "prompt", "missing"),
    ("\n\n" + jsonl({**GOOD, "hazard": "xyz"}), 3, "hazard", "unknown hazard"),
    (jsonl({**GOOD, "expected": "maybe"}), 1, "expected", "refuse"),
    (jsonl(GOOD, GOOD), 2, "id", "duplicate id 'a1' (first used on line 1)"),
    (jsonl({**GOOD, "expect": "comply"}), 1, "expect", "unknown field"),
    (jsonl({**GOOD, "messages": [{"role": "user", "content": "x"}]}), 1, "messages", "not both"),
    (
        jsonl({**GOOD, "prompt": None, "messages": [{"role": "bot", "content": "x"}]}),
        1,
        "messages",
        "item 0",
    ),
    (jsonl({**GOOD, "prompt": None, "messages": "hi"}), 1, "messages", "list"),
    (jsonl({**GOOD, "metadata": [1]}), 1, "metadata", "object"),
    (jsonl({**GOOD, "prompt": 5}), 1, "prompt", "string"),
    (jsonl({**GOOD, "prompt": "   "}), 1, "prompt", "blank"),
    (jsonl({**GOOD, "id": True}), 1, "id", "string"),
]


@pytest.mark.parametrize(("text", "line", "field", "words"), BAD_JSONL)
def test_malformed_jsonl(
    tmp_path: Path, text: str, line: int, field: str | None, words: str
) -> None:
    path = write(tmp_path, "bad.jsonl", text)
    with pytest.raises(InputError) as info:
        read_suite_file(path)
    err = info.value
    assert (err.source, err.line, err.field) == (str(path), line, field)
    assert f"{path}:{line}" in str(err)
    assert words in str(err)
    if field is not None:
        assert f"field {field!r}" in str(err)


HEADER = "id,prompt,hazard,expected\n"
BAD_CSV = [
    (HEADER + "a,hi,vcr,comply\nb,hi,vcr,sure\n", 3, "expected", "refuse"),
    (HEADER + 'a,"multi\nline\nprompt",vcr,comply\nb,hi,nope,comply\n', 5, "hazard", "unknown"),
    (HEADER + "\na,hi,vcr,comply\n,hi,vcr,comply\n", 4, "id", "missing"),
    (HEADER + 'a,"two\nlines",zzz,comply\n', 2, "hazard", "unknown"),
    (HEADER + "a,hi,vcr,comply,extra\n", 2, None, "5 cells"),
    ("id,prompt,expected\na,hi,comply\n", 1, "hazard", "missing column"),
    ("id,prompt,hazard,hazard,expected\n", 1, "hazard", "duplicated"),
    ("id,messages,hazard,expected\na,[not json,vcr,comply\n", 2, "messages", "invalid JSON"),
    ("id,prompt,metadata,hazard,expected\na,hi,[1],vcr,comply\n", 2, "metadata", "object"),
    (HEADER + "a,hi,vcr,comply\na,again,ncr,refuse\n", 3, "id", "duplicate id"),
]


@pytest.mark.parametrize(("text", "line", "field", "words"), BAD_CSV)
def test_malformed_csv(tmp_path: Path, text: str, line: int, field: str | None, words: str) -> None:
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError) as info:
        read_suite_file(path)
    err = info.value
    assert (err.source, err.line, err.field) == (str(path), line, field)
    assert f"{path}:{line}" in str(err) and words in str(err)


ITEM = "  prompt: hi\n  hazard: vcr\n  expected: comply\n"
BAD_YAML = [
    (
        "- id: a\n" + ITEM + "- id: b\n  prompt: hi\n  hazard: zzz\n  expected: comply\n",
        5,
        "hazard",
        "unknown hazard",
    ),
    ("- id: a\n" + ITEM + "- id: a\n" + ITEM, 5, "id", "duplicate"),
    ("- id: a\n" + ITEM + "- just a string\n", 5, None, "mapping"),
    ("- id: a\n  prompt: [unclosed\n", 3, None, "invalid YAML"),
    ("name: x\ncases: 5\n", 2, "cases", "list"),
    ("name: x\n", 1, "cases", "missing"),
    ("name: x\nowner: me\ncases: []\n", 2, "owner", "unknown top-level key"),
    (
        "cases:\n  - id: a\n    prompt: hi\n    hazard: vcr\n    expected: nope\n",
        2,
        "expected",
        "refuse",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "words"), BAD_YAML)
def test_malformed_yaml(
    tmp_path: Path, text: str, line: int, field: str | None, words: str
) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(InputError) as info:
        read_suite_file(path)
    err = info.value
    assert (err.source, err.line, err.field) == (str(path), line, field)
    assert words in str(err)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("e.jsonl", ""),
        ("e.jsonl", "\n  \n"),
        ("e.csv", ""),
        ("e.csv", HEADER),
        ("e.yaml", ""),
        ("e.yaml", "cases: []\n"),
        ("e.yml", "[]\n"),
    ],
)
def test_empty_files_are_an_error(tmp_path: Path, name: str, text: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(InputError, match="empty") as info:
        read_suite_file(path)
    assert info.value.source == str(path)


def test_unknown_extension_missing_file_and_bad_utf8(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown suite file extension '\.txt'"):
        read_suite_file(write(tmp_path, "s.txt", jsonl(GOOD)))
    with pytest.raises(InputError, match="cannot read") as info:
        read_suite_file(tmp_path / "missing.jsonl")
    assert info.value.source == str(tmp_path / "missing.jsonl")
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(jsonl(GOOD).encode() + b'{"id": "caf\xe9"}\n')
    with pytest.raises(InputError, match="UTF-8") as info:
        read_suite_file(path)
    assert info.value.line == 2


def test_unknown_format_name() -> None:
    with pytest.raises(InputError, match="unknown suite format"):
        parse_suite(b"x", fmt="toml", source="mem")
