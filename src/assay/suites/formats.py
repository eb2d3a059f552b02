"""The suite file format: one case per JSONL line, CSV row or YAML list item.

A suite file is how a user brings their own cases. The format is deliberately small so a
spreadsheet, a script or a hand-edited YAML file can all produce it:

=============  ========  =================================================================
field          required  meaning
=============  ========  =================================================================
``id``         yes       unique within the file (a string; YAML/JSON integers are accepted)
``prompt``     one of    one user turn (shorthand for ``messages``)
``messages``   one of    list of ``{role, content}``; in CSV a JSON string
``hazard``     yes       canonical code (``vcr``) or AILuminate subhazard (``spc_fin``)
``expected``   yes       ``refuse`` (harmful request) or ``comply`` (benign look-alike)
``metadata``   no        an object; in CSV a JSON string
=============  ========  =================================================================

A YAML file is either a list of cases or a mapping with ``name``, ``version``,
``description`` and ``cases``. In CSV, any other column is kept in ``metadata`` (exported
spreadsheets carry notes); in JSONL and YAML an unknown key is an error, so a typo such as
``expect`` is caught instead of silently dropped.

Every malformed input raises :class:`~assay.errors.InputError` naming the file, the line
(1-based physical line; for YAML the line where the item starts) and the field, because a
user fixing a 500-line file needs to know exactly where to look.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from assay.core.records import Case, Expected, Message
from assay.core.taxonomy import canonical
from assay.errors import InputError
from assay.suites.base import Suite

#: File suffix -> format name.
SUFFIXES: dict[str, str] = {".jsonl": "jsonl", ".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}

#: The fields a case record may carry.
FIELDS: tuple[str, ...] = ("id", "prompt", "messages", "hazard", "expected", "metadata")

_EXPECTED: tuple[Expected, ...] = ("refuse", "comply")
#: Builds an InputError for (message, field) at the record being validated.
_FailFn = Callable[[str, str | None], InputError]
_YAML_HEADER = ("name", "version", "description")


@dataclass(frozen=True)
class RawCase:
    """One record as read from a file, before validation, with the line it starts on."""

    data: Mapping[str, Any]
    line: int


@dataclass(frozen=True)
class _Parsed:
    """What a format parser returns: the records and any suite-level header fields."""

    rows: list[RawCase]
    header: dict[str, str]


def file_digest(blob: bytes) -> str:
    """The first 12 hex characters of the SHA-256 of ``blob``.

    Used as a file suite's default version so a stored result names the exact bytes it
    rests on: edit one character and the version changes.
    """
    return hashlib.sha256(blob).hexdigest()[:12]


def read_suite_file(
    path: str | os.PathLike[str], *, name: str | None = None, version: str | None = None
) -> Suite:
    """Read a suite from a ``.jsonl``, ``.csv``, ``.yaml`` or ``.yml`` file.

    Args:
        path: the file.
        name: the suite name; defaults to the YAML ``name`` field, else the file stem.
        version: the suite version; defaults to the YAML ``version`` field, else a
            12-hex-digit SHA-256 prefix of the file bytes.

    Raises:
        InputError: the file is missing, unreadable, empty, of an unknown extension, or
            any record is malformed (the message names file, line and field).
    """
    file = Path(path)
    source = str(file)
    fmt = SUFFIXES.get(file.suffix.lower())
    if fmt is None:
        raise InputError(
            f"unknown suite file extension {file.suffix or '(none)'!r}; "
            f"expected one of {', '.join(SUFFIXES)}",
            source=source,
        )
    try:
        blob = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read suite file: {exc.strerror or exc}", source=source) from exc
    return parse_suite(
        blob,
        fmt=fmt,
        source=source,
        name=name,
        default_name=file.stem,
        version=version,
        params={"path": source},
    )


def parse_suite(
    blob: bytes,
    *,
    fmt: str,
    source: str,
    name: str | None = None,
    default_name: str = "suite",
    version: str | None = None,
    params: dict[str, object] | None = None,
    description: str | None = None,
) -> Suite:
    """Parse suite bytes already in memory (a file, or a package resource).

    Separate from :func:`read_suite_file` so built-in suites shipped inside the wheel go
    through exactly the same validation as user files.

    Args:
        blob: the raw bytes (UTF-8, a BOM is allowed).
        fmt: ``jsonl``, ``csv`` or ``yaml``.
        source: what error messages and ``Suite.source`` call the input.
        name: overrides any name in the data.
        default_name: used when neither ``name`` nor the data names the suite.
        version: overrides any version in the data; else the file digest.
        params: what rebuilds the suite, stored in its spec.
        description: overrides any description in the data.

    Raises:
        InputError: on any malformed input.
    """
    text = decode_text(blob, source=source)
    parsers = {"jsonl": _parse_jsonl, "csv": _parse_csv, "yaml": _parse_yaml}
    if fmt not in parsers:
        raise InputError(f"unknown suite format {fmt!r}", source=source)
    parsed = parsers[fmt](text, source)
    if not parsed.rows:
        raise InputError("empty suite file: it holds no cases", source=source)
    suite_name = name or parsed.header.get("name") or default_name
    suite_version = version or parsed.header.get("version") or file_digest(blob)
    cases = _build_cases(parsed.rows, source=source, suite=suite_name, version=suite_version)
    return Suite(
        name=suite_name,
        version=suite_version,
        cases=cases,
        description=description or parsed.header.get("description", ""),
        source=source,
        params=dict(params or {}),
    )


def _build_cases(
    rows: Sequence[RawCase], *, source: str, suite: str, version: str
) -> tuple[Case, ...]:
    """Validate every record and reject a duplicate id, naming its first line."""
    seen: dict[str, int] = {}
    cases = []
    for raw in rows:
        case = case_from_record(
            raw.data, source=source, line=raw.line, suite=suite, suite_version=version
        )
        if case.id in seen:
            raise InputError(
                f"duplicate id {case.id!r} (first used on line {seen[case.id]})",
                source=source,
                line=raw.line,
                field="id",
            )
        seen[case.id] = raw.line
        cases.append(case)
    return tuple(cases)


def case_from_record(
    data: Mapping[str, Any],
    *,
    source: str,
    line: int,
    suite: str = "",
    suite_version: str = "0",
) -> Case:
    """Validate one record and build its :class:`Case`.

    Raises:
        InputError: naming ``source``, ``line`` and the offending field.
    """

    def fail(message: str, field: str | None) -> InputError:
        return InputError(message, source=source, line=line, field=field)

    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise fail(f"unknown field; known fields are {', '.join(FIELDS)}", unknown[0])
    case_id = _required_id(data, fail)
    messages = _messages(data, fail)
    hazard = _required_str(data, "hazard", fail)
    hazard = canonical(hazard, source=source, line=line)
    expected = _required_str(data, "expected", fail).strip().lower()
    if expected not in _EXPECTED:
        raise fail(f"must be 'refuse' or 'comply', not {data['expected']!r}", "expected")
    expected_value: Expected = "refuse" if expected == "refuse" else "comply"
    metadata = data.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, Mapping):
        raise fail(f"must be an object, not {type(metadata).__name__}", "metadata")
    try:
        return Case(
            id=case_id,
            messages=messages,
            hazard=hazard,
            expected=expected_value,
            metadata={str(k): v for k, v in metadata.items()},
            suite=suite,
            suite_version=suite_version,
        )
    except ValidationError as exc:  # pragma: no cover - every field is checked above
        raise fail(_first_error(exc), None) from exc


def _required_id(data: Mapping[str, Any], fail: _FailFn) -> str:
    value = data.get("id")
    if value is None or value == "":
        raise fail("missing required field", "id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise fail(f"must be a string, not {type(value).__name__}", "id")
    text = str(value).strip()
    if not text:
        raise fail("must not be blank", "id")
    return text


def _required_str(data: Mapping[str, Any], field: str, fail: _FailFn) -> str:
    value = data.get(field)
    if value is None or value == "":
        raise fail("missing required field", field)
    if not isinstance(value, str):
        raise fail(f"must be a string, not {type(value).__name__}", field)
    return value


def _messages(data: Mapping[str, Any], fail: _FailFn) -> tuple[Message, ...]:
    prompt = data.get("prompt")
    raw = data.get("messages")
    has_prompt = prompt is not None and prompt != ""
    has_messages = raw is not None and raw != ""
    if has_prompt and has_messages:
        raise fail("give either 'prompt' or 'messages', not both", "messages")
    if has_prompt:
        if not isinstance(prompt, str):
            raise fail(f"must be a string, not {type(prompt).__name__}", "prompt")
        if not prompt.strip():
            raise fail("must not be blank", "prompt")
        return (Message(role="user", content=prompt),)
    if not has_messages:
        raise fail("missing required field (or give 'messages')", "prompt")
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise fail("must be a non-empty list of {role, content} objects", "messages")
    messages = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise fail(f"item {index} must be an object with role and content", "messages")
        try:
            messages.append(Message.model_validate(dict(item)))
        except ValidationError as exc:
            raise fail(f"item {index}: {_first_error(exc)}", "messages") from exc
    return tuple(messages)


def _first_error(exc: ValidationError) -> str:
    """A one-line summary of a pydantic error, without its URL boilerplate."""
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err.get("loc", ()))
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def decode_text(blob: bytes, *, source: str) -> str:
    """UTF-8 (BOM tolerated) text of a file; an InputError names the line of a bad byte."""
    try:
        return blob.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = blob[: exc.start].count(b"\n") + 1
        raise InputError("not valid UTF-8 text", source=source, line=line) from exc


# --------------------------------------------------------------------------- JSONL


def iter_jsonl_objects(text: str, *, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, object)`` for each non-blank JSONL line; errors name the line."""
    # split on "\n" only: str.splitlines() would also split on U+2028 inside JSON strings.
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON: {exc.msg} (column {exc.colno})", source=source, line=number
            ) from exc
        if not isinstance(data, dict):
            raise InputError(
                f"each line must be a JSON object, not {type(data).__name__}",
                source=source,
                line=number,
            )
        yield number, data


def _parse_jsonl(text: str, source: str) -> _Parsed:
    rows = [RawCase(data, number) for number, data in iter_jsonl_objects(text, source=source)]
    return _Parsed(rows, {})


# --------------------------------------------------------------------------- CSV


def iter_csv_rows(
    text: str, *, source: str, required: Sequence[str] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line, row)`` for each non-blank CSV record, keyed by the header.

    ``line`` is the 1-based physical line the record starts on (a quoted field may span
    several lines), so errors point at the right place in an editor.

    Raises:
        InputError: no header, a ``required`` column missing, a duplicated column, a row
            with more cells than the header, or a CSV syntax error.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return
        header = [column.strip() for column in header]
        _check_header(header, source=source, required=required)
        previous = reader.line_num
        for cells in reader:
            start, previous = previous + 1, reader.line_num
            if not cells or all(not cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                raise InputError(
                    f"row has {len(cells)} cells but the header has {len(header)} columns",
                    source=source,
                    line=start,
                )
            cells = cells + [""] * (len(header) - len(cells))
            yield start, dict(zip(header, cells, strict=True))
    except csv.Error as exc:
        raise InputError(f"invalid CSV: {exc}", source=source, line=reader.line_num) from exc


def _check_header(header: list[str], *, source: str, required: Sequence[str]) -> None:
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise InputError("duplicated column in header", source=source, line=1, field=column)
        seen.add(column)
    for column in required:
        if column not in seen:
            raise InputError(
                f"missing column; the header has {', '.join(header)}",
                source=source,
                line=1,
                field=column,
            )


def _parse_csv(text: str, source: str) -> _Parsed:
    rows = []
    for line, row in iter_csv_rows(text, source=source, required=("id", "hazard", "expected")):
        data: dict[str, Any] = {}
        extra: dict[str, str] = {}
        for column, cell in row.items():
            if column in ("messages", "metadata"):
                data[column] = _json_cell(cell, column=column, source=source, line=line)
            elif column in FIELDS:
                data[column] = cell.strip() if column != "prompt" else cell
            elif cell != "" and column:
                extra[column] = cell
        if extra:
            metadata = data.get("metadata") or {}
            if not isinstance(metadata, dict):
                raise InputError(
                    "must be a JSON object", source=source, line=line, field="metadata"
                )
            data["metadata"] = {**extra, **metadata}
        rows.append(RawCase(data, line))
    return _Parsed(rows, {})


def _json_cell(cell: str, *, column: str, source: str, line: int) -> Any:
    if not cell.strip():
        return None
    try:
        return json.loads(cell)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON in cell: {exc.msg} (column {exc.colno})",
            source=source,
            line=line,
            field=column,
        ) from exc


# --------------------------------------------------------------------------- YAML


def _parse_yaml(text: str, source: str) -> _Parsed:
    """Parse YAML node by node so every item keeps the line it starts on."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return _Parsed([], {})
        header: dict[str, str] = {}
        items = root
        if isinstance(root, yaml.MappingNode):
            items, header = _yaml_header(loader, root, source)
        if not isinstance(items, yaml.SequenceNode):
            raise InputError(
                "a YAML suite is a list of cases or a mapping with a 'cases' list",
                source=source,
                line=items.start_mark.line + 1,
                field="cases",
            )
        rows = []
        for item in items.value:
            line = item.start_mark.line + 1
            data = loader.construct_object(item, deep=True)
            if not isinstance(data, dict):
                raise InputError(
                    f"each case must be a mapping, not {type(data).__name__}",
                    source=source,
                    line=line,
                )
            rows.append(RawCase(data, line))
        return _Parsed(rows, header)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"invalid YAML: {problem}", source=source, line=line) from exc
    finally:
        loader.dispose()


def _yaml_header(
    loader: yaml.SafeLoader, root: yaml.MappingNode, source: str
) -> tuple[yaml.Node, dict[str, str]]:
    header: dict[str, str] = {}
    items: yaml.Node | None = None
    for key_node, value_node in root.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key == "cases":
            items = value_node
        elif key in _YAML_HEADER:
            value = loader.construct_object(value_node, deep=True)
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise InputError("must be a string", source=source, line=line, field=str(key))
            header[str(key)] = str(value)
        else:
            raise InputError(
                "unknown top-level key; expected name, version, description, cases",
                source=source,
                line=line,
                field=str(key),
            )
    if items is None:
        raise InputError(
            "missing 'cases' list", source=source, line=root.start_mark.line + 1, field="cases"
        )
    return items, header
