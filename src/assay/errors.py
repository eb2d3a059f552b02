"""The one exception tree of assay.

::

    AssayError                      base of everything assay raises on purpose
    ├── UsageError                  bad input from a user: CLI exit code 2
    │   ├── InputError              a file, line or field is malformed (names where)
    │   └── UnknownPluginError      a name no registry knows (with "did you mean")
    ├── MissingDependencyError      an optional extra is not installed (names the extra)
    ├── StoreError                  the SQLite store is unusable or from a newer assay
    └── TargetError                 the system under test failed to answer
        ├── RetryableTargetError    429, 5xx, timeouts: worth another try
        └── ResponseFormatError     the answer came back but cannot be read

A judge that cannot decide does not raise: it returns an *unscored* verdict.
"""

from __future__ import annotations


class AssayError(Exception):
    """Base class of every error assay raises on purpose."""


class UsageError(AssayError):
    """The user asked for something that cannot be done; the CLI exits with code 2."""


class InputError(UsageError):
    """A file, line or field of user input is malformed.

    The message always names where: ``suite.jsonl:14: field 'expected': ...``.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        where = ""
        if source is not None:
            where = source if line is None else f"{source}:{line}"
        if field is not None:
            where = f"{where}: field {field!r}" if where else f"field {field!r}"
        super().__init__(f"{where}: {message}" if where else message)


class UnknownPluginError(UsageError):
    """A plugin name that no registry group knows."""


class MissingDependencyError(AssayError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"{package} is not installed; install it with: pip install 'assay[{extra}]'"
        )
        self.package = package
        self.extra = extra


class StoreError(AssayError):
    """The result store cannot be opened, migrated or written."""


class TargetError(AssayError):
    """The system under test failed to produce a response.

    Attributes:
        kind: a short machine-readable label stored with the response
            (``http_500``, ``timeout``, ``connection`` ...).
    """

    def __init__(self, message: str, *, kind: str = "target_error") -> None:
        super().__init__(message)
        self.kind = kind


class RetryableTargetError(TargetError):
    """A failure worth retrying (rate limit, server error, timeout).

    Attributes:
        retry_after: seconds the server asked us to wait, if it said so.
    """

    def __init__(self, message: str, *, kind: str, retry_after: float | None = None) -> None:
        super().__init__(message, kind=kind)
        self.retry_after = retry_after


class ResponseFormatError(TargetError):
    """The target answered, but its answer cannot be parsed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="unparsable")
