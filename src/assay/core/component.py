"""Components whose constructor arguments are their spec (the scikit-learn idea).

A component's ``__init__`` takes keyword-only arguments and stores each one, unchanged,
under the same attribute name. ``spec()`` reads them back, so every run can store exactly
what it used and ``build(spec)`` can rebuild it.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from assay.core.records import Spec


class Component:
    """Base for targets, judges, attacks and metrics.

    Subclasses set ``name`` (the registry name) and ``version`` (bump it whenever a change
    can alter a score), and store every ``__init__`` keyword argument as an attribute.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "0"
    #: Constructor parameters left out of the spec (secrets such as API keys).
    secret_params: ClassVar[frozenset[str]] = frozenset()

    def spec(self) -> Spec:
        """The name, version and constructor parameters of this component."""
        params: dict[str, Any] = {}
        signature = inspect.signature(type(self).__init__)
        for pname, param in signature.parameters.items():
            if pname == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if pname in self.secret_params:
                continue
            params[pname] = getattr(self, pname)
        return Spec(name=self.name or type(self).__name__, version=self.version, params=params)

    def __repr__(self) -> str:
        spec = self.spec()
        args = ", ".join(f"{k}={v!r}" for k, v in spec.params.items())
        return f"{type(self).__name__}({args})"
