"""Helpers shared by the CLI commands: KEY=VALUE parsing and plugin construction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assay.core.registry import registry
from assay.errors import InputError
from assay.store.sqlite import DEFAULT_DB, Store


def parse_pairs(pairs: list[str] | None, *, option: str) -> dict[str, Any]:
    """``["k=v", ...]`` -> dict; values are JSON when they parse as JSON, else strings."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"expected KEY=VALUE, got {pair!r}", field=option)
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def scoped(params: dict[str, Any], name: str, names: list[str]) -> dict[str, Any]:
    """The parameters meant for plugin ``name``.

    ``KEY=V`` goes to every plugin of the option; ``NAME.KEY=V`` only to plugin ``NAME``
    (so ``--judge llamaguard --judge refusal --judge-arg llamaguard.model=m`` works).
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        prefix, dot, rest = key.partition(".")
        if dot and prefix in names:
            if prefix == name:
                out[rest] = value
        else:
            out[key] = value
    return out


def build(group: str, name: str, params: dict[str, Any], *, option: str) -> Any:
    """Instantiate a plugin; a wrong parameter becomes an error naming the option."""
    factory = registry.get(group, name)
    try:
        return factory(**params)
    except TypeError as exc:
        raise InputError(
            f"{group[:-1]} {name!r} rejected its parameters: {exc}", field=option
        ) from exc


def open_store(db: Path | None) -> Store:
    return Store(db or DEFAULT_DB)


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets, braces and quotes (JSON values keep commas)."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_attack(ref: str, *, option: str = "--attack") -> list[tuple[str, dict[str, Any]]]:
    """``FAMILY[:VARIANT][,VARIANT...][,KEY=VALUE...][>NEXT...]`` -> a chain of (name, params).

    ``encoding:base64,rot13,sample=1`` is the encoding family limited to two variants, one
    drawn per case; ``persona:mercenary>encoding:base64`` chains two attacks in order.
    """
    chain: list[tuple[str, dict[str, Any]]] = []
    for link in _split_top(ref, ">"):
        items = [item.strip() for item in _split_top(link, ",")]
        head, *rest = items
        name, _, first = head.partition(":")
        if not name:
            raise InputError(f"no attack name in {ref!r}", field=option)
        variants = [first] if first else []
        pairs: list[str] = []
        for item in rest:
            if not item:
                continue
            (pairs if "=" in item else variants).append(item)
        params = parse_pairs(pairs, option=option)
        if variants:
            if "variants" in params:
                raise InputError(f"variants given twice in {ref!r}", field=option)
            params["variants"] = variants
        chain.append((name.strip(), params))
    return chain
