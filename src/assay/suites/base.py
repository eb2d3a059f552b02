"""A suite: a named, versioned tuple of cases."""

from __future__ import annotations

from dataclasses import dataclass, field

from assay.core.records import Case, Spec


@dataclass(frozen=True)
class Suite:
    """A named, versioned collection of cases.

    Attributes:
        name: registry name or file name.
        version: bump whenever a case changes, so stored results say what they rest on.
        source: where the cases came from (a package resource or a file path).
        params: what rebuilds the suite (e.g. ``{"path": ...}``), stored in the run spec.
    """

    name: str
    version: str
    cases: tuple[Case, ...]
    description: str = ""
    source: str = ""
    params: dict[str, object] = field(default_factory=dict)

    def spec(self) -> Spec:
        return Spec(name=self.name, version=self.version, params=dict(self.params))

    def __len__(self) -> int:
        return len(self.cases)
