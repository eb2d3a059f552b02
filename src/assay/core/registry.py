"""The one global: a lazy registry of plugins, filled from entry points.

Groups are ``assay.targets``, ``assay.judges``, ``assay.attacks``, ``assay.suites`` and
``assay.metrics``. assay's own plugins have bare names (``refusal``); a third-party
package's plugins are named ``package/name`` so two packages never collide. Entry points
are read once, on first use, and loaded only when asked for; a plugin that fails to
import warns and is skipped instead of breaking every other command.
"""

from __future__ import annotations

import difflib
import threading
import warnings
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from assay.errors import UnknownPluginError

GROUPS = ("targets", "judges", "attacks", "suites", "metrics")
_OWN_DISTRIBUTION = "assay"


@dataclass(frozen=True)
class PluginInfo:
    """What ``assay plugins`` lists."""

    group: str
    name: str
    distribution: str
    description: str


class Registry:
    """Name -> plugin, per group. Thread-safe, lazy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, EntryPoint]] | None = None
        self._extra: dict[str, dict[str, Any]] = {group: {} for group in GROUPS}
        self._loaded: dict[tuple[str, str], Any] = {}

    def _scan(self) -> dict[str, dict[str, EntryPoint]]:
        with self._lock:
            if self._entries is None:
                found: dict[str, dict[str, EntryPoint]] = {group: {} for group in GROUPS}
                for group in GROUPS:
                    for ep in entry_points(group=f"assay.{group}"):
                        dist = ep.dist.name if ep.dist is not None else _OWN_DISTRIBUTION
                        name = ep.name if dist == _OWN_DISTRIBUTION else f"{dist}/{ep.name}"
                        found[group][name] = ep
                self._entries = found
            return self._entries

    def register(self, group: str, name: str, obj: Any) -> None:
        """Add a plugin by hand (tests, notebooks). Overrides an entry point of that name."""
        self._check_group(group)
        self._extra[group][name] = obj
        self._loaded.pop((group, name), None)

    def names(self, group: str) -> list[str]:
        """Every name known in ``group``, sorted."""
        self._check_group(group)
        return sorted(set(self._scan()[group]) | set(self._extra[group]))

    def get(self, group: str, name: str) -> Any:
        """The plugin object (a class or a factory function) named ``name``.

        Raises:
            UnknownPluginError: with the closest known names.
        """
        self._check_group(group)
        if name in self._extra[group]:
            return self._extra[group][name]
        key = (group, name)
        if key in self._loaded:
            return self._loaded[key]
        entry = self._scan()[group].get(name)
        if entry is None:
            known = self.names(group)
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            listing = ", ".join(known) or "none"
            raise UnknownPluginError(f"unknown {group[:-1]} {name!r}{hint} (known: {listing})")
        obj = entry.load()
        self._loaded[key] = obj
        return obj

    def create(self, group: str, name: str, **params: Any) -> Any:
        """Instantiate the plugin ``name`` with keyword parameters."""
        return self.get(group, name)(**params)

    def describe(self, group: str) -> list[PluginInfo]:
        """Name, distribution and one-line description of every loadable plugin."""
        infos = []
        entries = self._scan()[group]
        for name in self.names(group):
            dist = _OWN_DISTRIBUTION
            entry = entries.get(name)
            if entry is not None and entry.dist is not None:
                dist = entry.dist.name
            try:
                obj = self.get(group, name)
            except Exception as exc:  # a broken plugin must not break the listing
                warnings.warn(f"plugin {group}/{name} failed to load: {exc}", stacklevel=2)
                continue
            doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
            infos.append(PluginInfo(group, name, dist, doc[0] if doc else ""))
        return infos

    @staticmethod
    def _check_group(group: str) -> None:
        if group not in GROUPS:
            raise UnknownPluginError(f"unknown plugin group {group!r} (known: {GROUPS})")


registry = Registry()
