"""Jailbreak templates: the request wrapped in a role-play, a fake mode, a hypothetical...

Hand-written jailbreak templates are the oldest and still one of the most effective
attack classes (Wei et al. 2023, "Jailbroken: How Does LLM Safety Training Fail?"; Shen
et al. 2023, "Do Anything Now" on in-the-wild prompts). The built-in collection in
``data/templates.yaml`` is written by us and grouped into families (``roleplay``,
``developer_mode``, ``hypothetical``, ``refusal_suppression``, ``prefix_injection``,
``fictional``); a variant is a family and the template is drawn from it with the case's
seeded ``rng``, so a suite spreads over every template of a family instead of
multiplying by it.

Users bring their own collections (garak's DAN prompts, PyRIT's jailbreak YAML files,
in-the-wild dumps) with ``file=``: a YAML list or mapping, a JSONL file, or a text file of
templates separated by ``---`` lines. Each template needs exactly one ``{prompt}`` slot;
PyRIT's ``{{ prompt }}`` and garak's ``[INSERT PROMPT HERE]`` are accepted and rewritten.
A bad template is an :class:`~assay.errors.InputError` naming the file and line.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import yaml

from assay.attacks.base import VariantAttack, fill, request_text, with_request
from assay.core.records import Case, Message, Mutation
from assay.errors import InputError

SLOT = "{prompt}"
#: Slot spellings of other tools, rewritten to ``{prompt}`` (PyRIT/Jinja, garak DAN).
_FOREIGN_SLOTS = (re.compile(r"\{\{\s*prompt\s*\}\}"), re.compile(r"\[INSERT PROMPT HERE\]"))
#: The family of templates a file does not assign to one.
EXTERNAL = "external"


@dataclass(frozen=True)
class Template:
    """One jailbreak template; ``text`` has exactly one ``{prompt}`` slot."""

    id: str
    family: str
    text: str


# -- reading rows with their line numbers ----------------------------------------------


def read_rows(text: str, source: str) -> list[tuple[int, Any]]:
    """The items of a JSONL, JSON or YAML document, each with the line it starts on.

    A YAML or JSON document that is a mapping is one item (PyRIT keeps one template per
    file); a list is its items. The format is chosen from ``source``'s suffix.
    """
    suffix = Path(source).suffix.lower()
    if suffix == ".jsonl":
        rows: list[tuple[int, Any]] = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InputError(f"not valid JSON: {exc.msg}", source=source, line=n) from exc
        return rows
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg}", source=source, line=exc.lineno) from exc
        items = data if isinstance(data, list) else [data]
        return [(1, item) for item in items]
    if suffix in (".yaml", ".yml"):
        return _yaml_rows(text, source)
    raise InputError(
        f"unsupported file type {suffix or '(none)'!r}; use .yaml, .yml, .jsonl, .json or .txt",
        source=source,
    )


def _yaml_rows(text: str, source: str) -> list[tuple[int, Any]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"not valid YAML: {exc}", source=source, line=line) from exc
    if node is None or data is None:
        return []
    if isinstance(data, dict) and isinstance(data.get("templates"), list):
        # {templates: [...]}: a named collection; find the list's node for line numbers.
        for key, value in node.value:
            if key.value == "templates":
                node = value
        data = data["templates"]
    if isinstance(data, list):
        return [(item.start_mark.line + 1, row) for item, row in zip(node.value, data, strict=True)]
    return [(node.start_mark.line + 1, data)]


def read_source(path: str) -> str:
    """The text of a user file, or an InputError saying why it cannot be read."""
    if not isinstance(path, str) or not path:
        raise InputError(f"file must be a path, got {path!r}", field="file")
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("file not found", source=path) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", source=path) from exc


# -- templates --------------------------------------------------------------------------


def normalize_slot(text: str) -> str:
    """Rewrite other tools' prompt slots (``{{ prompt }}``...) to ``{prompt}``."""
    for pattern in _FOREIGN_SLOTS:
        text = pattern.sub(SLOT, text)
    return text


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _template(row: Any, *, source: str, line: int, default_id: str) -> Template:
    if isinstance(row, str):
        row = {"template": row}
    if not isinstance(row, dict):
        raise InputError("a template must be a mapping or a string", source=source, line=line)
    field = "template" if "template" in row else "value"  # PyRIT keeps it under ``value``
    text = row.get(field)
    if not isinstance(text, str) or not text.strip():
        raise InputError(
            "missing template text (key 'template', or PyRIT's 'value')",
            source=source,
            line=line,
            field="template",
        )
    text = normalize_slot(text.strip("\n"))
    count = text.count(SLOT)
    if count != 1:
        raise InputError(
            f"a template needs exactly one {SLOT} slot (or {{{{ prompt }}}}), found {count}",
            source=source,
            line=line,
            field=field,
        )
    if row.get("id") is not None:
        template_id = str(row["id"]).strip()
    elif row.get("name") is not None:  # PyRIT names its templates ("Dev Mode v2")
        template_id = _slug(str(row["name"]))
    else:
        template_id = default_id
    if not template_id:
        raise InputError("empty template id", source=source, line=line, field="id")
    family = row.get("family", EXTERNAL)
    if not isinstance(family, str) or not _slug(family):
        raise InputError("family must be a non-empty string", source=source, line=line)
    return Template(id=template_id, family=family.strip(), text=text)


def parse_templates(text: str, source: str) -> tuple[Template, ...]:
    """Read a template collection (YAML, JSON, JSONL, or ``---``-separated text)."""
    stem = _slug(Path(source).stem) or "template"
    is_text = Path(source).suffix.lower() == ".txt"
    rows = _text_blocks(text) if is_text else read_rows(text, source)
    made = [
        (line, _template(row, source=source, line=line, default_id=f"{stem}-{i}"))
        for i, (line, row) in enumerate(rows, start=1)
    ]
    return unique_ids(made, what="template", source=source)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_T = TypeVar("_T", bound=_HasId)


def unique_ids(items: Sequence[tuple[int, _T]], *, what: str, source: str) -> tuple[_T, ...]:
    """The items of a user file, in order; a repeated id or an empty file is an error."""
    seen: dict[str, int] = {}
    for line, item in items:
        if item.id in seen:
            raise InputError(
                f"duplicate {what} id {item.id!r} (first on line {seen[item.id]})",
                source=source,
                line=line,
                field="id",
            )
        seen[item.id] = line
    if not items:
        raise InputError(f"no {what}s in file", source=source)
    return tuple(item for _, item in items)


def _text_blocks(text: str) -> list[tuple[int, Any]]:
    """Templates separated by lines holding only ``---``, each with its first line."""
    blocks: list[tuple[int, Any]] = []
    start, lines = 1, list[str]()
    for n, line in enumerate([*text.splitlines(), "---"], start=1):
        if line.strip() == "---":
            body = "\n".join(lines).strip("\n")
            if body.strip():
                offset = next(i for i, x in enumerate(lines) if x.strip())
                blocks.append((start + offset, body))
            start, lines = n + 1, []
        else:
            lines.append(line)
    return blocks


@cache
def builtin_templates() -> tuple[Template, ...]:
    """The templates shipped with assay (``data/templates.yaml``)."""
    text = resources.files("assay.attacks").joinpath("data/templates.yaml").read_text("utf-8")
    return parse_templates(text, "templates.yaml")


class TemplateAttack(VariantAttack):
    """Wrap the request in a jailbreak template; a variant is a template family.

    Args:
        file: a user template collection used instead of the built-in one; its families
            (``external`` where a template names none) become the variants.
    """

    name = "template"
    family = "template"
    version = "1"
    VARIANTS: ClassVar[tuple[str, ...]] = (
        "roleplay",
        "developer_mode",
        "hypothetical",
        "refusal_suppression",
        "prefix_injection",
        "fictional",
    )

    def __init__(
        self,
        *,
        file: str | None = None,
        variants: Sequence[str] | None = None,
        sample: int | None = None,
    ) -> None:
        super().__init__(variants=variants, sample=sample)
        self.file = file
        self._templates = (
            parse_templates(read_source(file), file) if file is not None else builtin_templates()
        )

    def variant_names(self) -> tuple[str, ...]:
        if self.file is None:
            return self.VARIANTS
        return tuple(dict.fromkeys(t.family for t in self._templates))

    def templates(self, family: str) -> tuple[Template, ...]:
        """The templates of one family, in file order."""
        return tuple(t for t in self._templates if t.family == family)

    def mutate(
        self, variant: str, case: Case, messages: tuple[Message, ...], rng: random.Random
    ) -> Mutation | None:
        pool = self.templates(variant)
        if not pool:
            return None
        chosen = pool[rng.randrange(len(pool))]
        text = fill(chosen.text, request_text(messages))
        return Mutation(
            messages=with_request(messages, text),
            note=f"jailbreak template {chosen.id}",
            detail={"template": chosen.id},
        )
