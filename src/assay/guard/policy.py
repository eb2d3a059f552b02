"""The guard's policy: which judge, which hazards, which thresholds, which safety configs.

A policy is a YAML (or JSON) file; ``docs/guard.md`` documents every field. It is parsed
into a frozen :class:`Policy`, so a running guard's rules cannot drift, and it is named by
``policy_id``, a short content hash of its normalised form, which every decision carries:
an audit can tell exactly which rules decided.

Errors name the file and the field (``policy.yaml: field 'configs.medical.allow[0]':
unknown hazard 'xyz'``), because a guard that starts with a silently ignored typo in its
policy is worse than one that refuses to start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from assay.core.records import content_hash
from assay.core.taxonomy import HAZARDS, canonical
from assay.errors import InputError, UnknownPluginError

__all__ = ["DEFAULT_POLICY_FILE", "FailureMode", "Policy", "SafetyConfig", "field_path"]

FailureMode = Literal["block", "allow", "abstain"]

#: The policy shipped with assay (``Policy.default()``).
DEFAULT_POLICY_FILE = Path(__file__).parent / "data" / "default_policy.yaml"

_CONFIG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _hazard(code: Any) -> str:
    if not isinstance(code, str):
        raise ValueError(f"a hazard code must be a string, not {type(code).__name__}")
    try:
        return canonical(code)
    except InputError:
        raise ValueError(f"unknown hazard {code!r}; expected one of {', '.join(HAZARDS)}") from None


def _unit(value: float, what: str = "") -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} must be in [0, 1], got {value!r}".strip())
    return value


#: A canonical hazard code; AILuminate subhazards (``spc_hlt``) fold into their parent.
HazardCode = Annotated[str, BeforeValidator(_hazard)]
#: A probability threshold in [0, 1].
Unit = Annotated[float, AfterValidator(_unit)]


class _FieldError(ValueError):
    """A whole-policy check that fails because of one field (named in the error)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class SafetyConfig(BaseModel):
    """A named deployment profile (CoSA): hazards it allows, and what it is for.

    A request names its config; a hazard the config allows is never blocked for it (a
    medical deployment allows ``spc``, specialised health advice).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow: tuple[HazardCode, ...] = ()
    description: str = ""


class Policy(BaseModel):
    """The rules a :class:`~assay.guard.guard.Guard` applies.

    Attributes:
        id: a human name for the policy (the content hash is ``policy_id``).
        description: free text.
        judge: a registered judge name (``harm`` by default; ``ensemble`` for several).
        judge_params: the judge's constructor parameters; for ``ensemble``:
            ``{judges: [...], judge_params: {...}, rule: weighted, weights: {...}, ...}``.
        hazards: the canonical hazards enforced (default: all twelve). A text flagged only
            with hazards outside this list is allowed.
        threshold: without a calibration, block when P(unsafe) >= threshold (and a flagged
            hazard is enforced and not allowed by the request's config).
        thresholds: per-hazard overrides of ``threshold`` (uncalibrated only).
        abstain_band: ``[low, high]``: without a calibration, abstain when
            ``low <= P(unsafe) <= high`` (unless a flagged hazard's own threshold is below
            ``low``, which blocks).
        on_judge_failure: what a judge failure decides: ``block`` (fail closed, the
            default), ``allow`` (fail open) or ``abstain``.
        calibration: path of a calibration artifact (``assay guard calibrate``), resolved
            against the policy file's folder; optional.
        configs: named safety configs (CoSA); a ``default`` with no allowances is implied.
        default_config: the config of requests that name none; must exist.
        hedge_eta: Hedge learning rate for reviewer feedback on a weighted ensemble.
        feedback_memory: how many recent decisions keep their judges' votes in memory for
            feedback (an LRU).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = "policy"
    description: str = ""
    judge: str = "harm"
    judge_params: dict[str, Any] = Field(default_factory=dict)
    hazards: tuple[HazardCode, ...] = tuple(HAZARDS)
    threshold: Unit = 0.5
    thresholds: dict[HazardCode, Unit] = Field(default_factory=dict)
    abstain_band: tuple[float, float] | None = None
    on_judge_failure: FailureMode = "block"
    calibration: str | None = None
    configs: dict[str, SafetyConfig] = Field(default_factory=dict)
    default_config: str = "default"
    hedge_eta: float = Field(default=0.5, ge=0.0, le=100.0)
    feedback_memory: int = Field(default=10_000, ge=1)

    _source: str = PrivateAttr(default="")

    @field_validator("id", "judge")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("hazards")
    @classmethod
    def _hazard_list(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(c for c in HAZARDS if c in value)  # canonical order, no repeats

    @field_validator("abstain_band")
    @classmethod
    def _band(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None:
            low, high = value
            _unit(low, "the band's low end")
            _unit(high, "the band's high end")
            if low > high:
                raise ValueError(f"low end {low} is above high end {high}")
        return value

    @field_validator("configs", mode="before")
    @classmethod
    def _config_names(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            for name in value:
                if not isinstance(name, str) or not _CONFIG_NAME.match(name):
                    raise _FieldError(
                        f"config name {name!r} must be 1-64 letters, digits, '_', '.' or '-'",
                        f"configs.{name}",
                    )
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Policy:
        if self.default_config not in self.configs:
            if self.default_config != "default":
                raise _FieldError(
                    f"{self.default_config!r} is not among the configs "
                    f"({', '.join(self.configs) or 'none'})",
                    "default_config",
                )
            # The implied default config: no allowances.
            configs = {"default": SafetyConfig(description="implied: nothing allowed")}
            configs.update(self.configs)
            object.__setattr__(self, "configs", configs)
        if self.judge == "ensemble":
            members = self.judge_params.get("judges")
            if not isinstance(members, list) or not members:
                raise _FieldError(
                    "judge 'ensemble' needs a non-empty list of member judges",
                    "judge_params.judges",
                )
            for index, member in enumerate(members):
                if not isinstance(member, str) or not member:
                    raise _FieldError("must be a judge name", f"judge_params.judges[{index}]")
        return self

    # -- identity -----------------------------------------------------------------------

    def normalised(self) -> dict[str, Any]:
        """The policy as plain data, defaults filled in; what ``policy_id`` hashes.

        ``calibration`` (a path) is left out: where an artifact lives is not a rule, and
        the artifact's own id travels with every decision as ``calibration_id``.
        """
        data = self.model_dump(mode="json", exclude={"calibration"})
        data["configs"] = {k: data["configs"][k] for k in sorted(data["configs"])}
        return data

    @property
    def policy_id(self) -> str:
        """A short content hash of :meth:`normalised` (``pol-`` + 12 hex digits)."""
        return "pol-" + content_hash(self.normalised())[:12]

    @property
    def source(self) -> str:
        """The file the policy was read from ("" when built in code)."""
        return self._source

    # -- helpers ------------------------------------------------------------------------

    def config_names(self) -> list[str]:
        return sorted(self.configs)

    def allowed(self, config: str) -> frozenset[str]:
        """The hazards config ``config`` allows (``InputError`` if there is no such config)."""
        safety = self.configs.get(config)
        if safety is None:
            raise InputError(
                f"unknown safety config {config!r}; this policy has "
                f"{', '.join(self.config_names())}",
                field="config",
            )
        return frozenset(safety.allow)

    def threshold_for(self, hazard: str) -> float:
        return self.thresholds.get(hazard, self.threshold)

    def calibration_path(self) -> Path | None:
        """``calibration`` resolved against the policy file's folder (or the cwd)."""
        if self.calibration is None:
            return None
        path = Path(self.calibration).expanduser()
        if not path.is_absolute() and self._source:
            path = Path(self._source).parent / path
        return path

    # -- loading ------------------------------------------------------------------------

    @classmethod
    def from_data(cls, data: Any, *, source: str = "") -> Policy:
        """Validate plain data; errors name ``source`` and the field."""
        where = source or None
        if not isinstance(data, Mapping):
            raise InputError(
                f"a policy must be a mapping of fields, not {type(data).__name__}", source=where
            )
        try:
            policy = cls.model_validate(dict(data))
        except ValidationError as exc:
            error = exc.errors()[0]
            message = str(error.get("msg", "invalid"))
            message = message.removeprefix("Value error, ")
            if error.get("type") == "extra_forbidden":
                message = "unknown field"
            cause = (error.get("ctx") or {}).get("error")
            field = (
                cause.field
                if isinstance(cause, _FieldError)
                else field_path(tuple(error.get("loc", ())))
            )
            raise InputError(message, source=where, field=field or None) from None
        from assay.core.registry import registry

        try:
            registry.get("judges", policy.judge)
        except UnknownPluginError as exc:
            raise InputError(str(exc), source=where, field="judge") from None
        if policy.judge == "ensemble":
            for index, member in enumerate(policy.judge_params["judges"]):
                try:
                    registry.get("judges", member)
                except UnknownPluginError as exc:
                    field = f"judge_params.judges[{index}]"
                    raise InputError(str(exc), source=where, field=field) from None
        policy._source = source
        return policy

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """Read a policy file (``.yaml``, ``.yml`` or ``.json``).

        Raises:
            InputError: the file is missing, unreadable or malformed, or a field is wrong
                (the message names the file and the field).
        """
        file = Path(path)
        source = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the policy: {exc}", source=source) from exc
        try:
            data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg}", source=source, line=exc.lineno) from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise InputError(f"not valid YAML: {exc}", source=source, line=line) from exc
        if data is None:
            data = {}
        return cls.from_data(data, source=source)

    @classmethod
    def default(cls) -> Policy:
        """The policy shipped with assay (``assay/guard/data/default_policy.yaml``)."""
        return cls.load(DEFAULT_POLICY_FILE)


def field_path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """A pydantic error location as a path: ``('configs', 'medical', 'allow', 0)`` ->
    ``configs.medical.allow[0]``."""
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for an invalid mapping key
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
