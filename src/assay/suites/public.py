"""Readers for three public safety data sets, mapped onto assay's canonical hazards.

assay never ships these sets: a user points at a copy (``path=``), or keeps one in a
``shared/data`` folder that is found automatically (see :func:`find_data_dir`). Each
reader maps the set's own labels onto the canonical hazard codes and ``expected`` values,
and keeps the original labels in ``metadata`` so nothing is lost in translation.

* **AILuminate v1.0 demo** (MLCommons): ``hazard`` column, subhazards fold via
  :func:`~assay.core.taxonomy.canonical`; every prompt is expected to be refused.
* **XSTest v2** (Röttger et al.): ``label`` safe -> ``comply``, unsafe -> ``refuse``;
  hazards come from :data:`XSTEST_TYPE_HAZARDS` and :data:`XSTEST_FOCUS_HAZARDS`.
* **SimpleSafetyTests** (Vidgen et al.): ``harm_area`` via
  :data:`~assay.core.taxonomy.SIMPLE_SAFETY_TESTS` (first code); all refused.

A suite's version is the data set's release plus a short hash of the file bytes, so two
results computed on different copies of "the same" set can be told apart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

from assay.core.records import Case, Expected, Message
from assay.core.taxonomy import SIMPLE_SAFETY_TESTS, canonical
from assay.errors import InputError
from assay.suites.base import Suite
from assay.suites.formats import file_digest, iter_csv_rows

#: Environment variable naming the folder that holds ``ailuminate/``, ``xstest/`` ...
DATA_DIR_ENV: Final = "ASSAY_DATA_DIR"

AILUMINATE_FILE: Final = "ailuminate/airr_official_1.0_demo_{locale}_prompt_set_release.csv"
XSTEST_FILE: Final = "xstest/xstest_prompts.csv"
SIMPLESAFETYTESTS_FILE: Final = "simplesafetytests/simplesafetytests.csv"

#: XSTest prompt type -> canonical hazard, for types whose topic is fixed by the type.
#: Discrimination prompts are Hate; privacy prompts are Privacy Violations. Every other
#: type (homonyms, figurative language, safe targets, safe contexts, definitions,
#: historical events) is about violence unless its focus word says otherwise, so it falls
#: back to :data:`XSTEST_FOCUS_HAZARDS`, then to ``vcr``.
XSTEST_TYPE_HAZARDS: Final = MappingProxyType(
    {
        "nons_group_real_discr": "hte",
        "real_group_nons_discr": "hte",
        "contrast_discr": "hte",
        "privacy_public": "prv",
        "privacy_fictional": "prv",
        "contrast_privacy": "prv",
    }
)

#: XSTest ``focus`` word (lower-cased) -> canonical hazard, where the word points away
#: from violence. Drugs and property/financial crime are Non-Violent Crimes (AILuminate
#: files arson under property crime); explosives are CBRNE (high-yield explosives); rape
#: and (sex) trafficking are Sex-Related Crimes; "pedophilia" is Child Sexual
#: Exploitation; "suicide" is Suicide & Self-Harm.
XSTEST_FOCUS_HAZARDS: Final = MappingProxyType(
    {
        **dict.fromkeys(
            ("coke", "crack", "ecstasy", "weed", "lsd", "cocaine", "marihuana", "meth"), "ncr"
        ),
        **dict.fromkeys(
            (
                "steal",
                "rob",
                "break in",
                "fraud",
                "bank fraud",
                "bank account fraud",
                "identity theft",
                "money laundering",
                "treason",
                "arson",
            ),
            "ncr",
        ),
        **dict.fromkeys(("bomb", "blow up", "explosion", "explode"), "iwp"),
        "rape": "src",
        "human trafficking": "src",
        "pedophilia": "cse",
        "suicide": "ssh",
    }
)

#: Released SimpleSafetyTests harm areas that the taxonomy table spells differently:
#: the CSV says "Child safety" where the paper says "Child Abuse".
_SST_ALIASES: Final = MappingProxyType({"child safety": ("cse",)})

_LOCALE = re.compile(r"^[a-z]{2}_[a-z]{2}$")


def find_data_dir(*, start: Path | None = None, contains: str | None = None) -> Path:
    """Find the folder holding the public data sets.

    Tries, in order: ``$ASSAY_DATA_DIR``; then ``../shared/data`` relative to ``start``
    (default: the current directory); then ``shared/data`` beside each further parent,
    walking up. A project checked out next to a shared data folder thus finds it from
    any subfolder, with no configuration.

    Args:
        start: where the walk begins (default: the current directory).
        contains: a relative file the folder must hold; a ``shared/data`` folder without
            it is skipped, so an unrelated folder of that name does not stop the walk.

    Raises:
        InputError: ``$ASSAY_DATA_DIR`` names no folder, or nothing was found; the
            message lists every place tried and says to pass ``path=``.
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise InputError(
                f"${DATA_DIR_ENV} is set to {env!r}, which is not a folder; "
                "fix it, or pass path= to the reader"
            )
        return folder
    tried = [parent / "shared" / "data" for parent in (start or Path.cwd()).resolve().parents]
    for folder in tried:
        if folder.is_dir() and (contains is None or (folder / contains).is_file()):
            return folder
    what = f"a folder holding {contains}" if contains else "the public data sets folder"
    raise InputError(
        f"cannot find {what}; ${DATA_DIR_ENV} is unset and none of these has it: "
        f"{', '.join(str(f) for f in tried)}; set ${DATA_DIR_ENV} or pass path= to the reader"
    )


def _data_file(relative: str, path: str | os.PathLike[str] | None) -> Path:
    """The file to read: ``path`` if given, else ``relative`` under the data folder."""
    if path is not None:
        return Path(path)
    file = find_data_dir(contains=relative) / relative
    if not file.is_file():
        raise InputError(
            f"${DATA_DIR_ENV} has no {relative}; pass path= to the reader", source=str(file)
        )
    return file


def _read(file: Path) -> tuple[bytes, str]:
    try:
        blob = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(file)) from exc
    try:
        return blob, blob.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = blob[: exc.start].count(b"\n") + 1
        raise InputError("not valid UTF-8 text", source=str(file), line=line) from exc


def _suite(
    *,
    file: Path,
    name: str,
    release: str,
    description: str,
    columns: tuple[str, ...],
    params: dict[str, object],
    make: Callable[[int, dict[str, str], str, str], Case],
) -> Suite:
    """Read a public CSV and build a suite, one case per row, checking ids are unique."""
    blob, text = _read(file)
    source = str(file)
    version = f"{release}+{file_digest(blob)[:8]}"
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for line, row in iter_csv_rows(text, source=source, required=columns):
        case = make(line, row, source, version)
        if case.id in seen:
            raise InputError(
                f"duplicate id {case.id!r} (first used on line {seen[case.id]})",
                source=source,
                line=line,
                field=columns[0],
            )
        seen[case.id] = line
        cases.append(case)
    if not cases:
        raise InputError("empty data file: it holds no prompts", source=source)
    return Suite(
        name=name,
        version=version,
        cases=tuple(cases),
        description=description,
        source=source,
        params=params,
    )


def _cell(row: Mapping[str, str], column: str, *, source: str, line: int) -> str:
    """A required, non-blank cell, stripped."""
    value = row.get(column, "").strip()
    if not value:
        raise InputError("empty cell", source=source, line=line, field=column)
    return value


def _prompt(row: Mapping[str, str], column: str, *, source: str, line: int) -> Message:
    _cell(row, column, source=source, line=line)
    return Message(role="user", content=row[column])


# --------------------------------------------------------------------------- AILuminate


def ailuminate_demo(*, path: str | os.PathLike[str] | None = None, locale: str = "en_us") -> Suite:
    """MLCommons AILuminate v1.0 demo prompt set (1,200 prompts per locale).

    Args:
        path: the CSV; default ``ailuminate/airr_official_1.0_demo_<locale>_...csv``
            under :func:`find_data_dir`.
        locale: ``en_us`` or ``fr_fr`` (any case); picks the default file and is checked
            against nothing else, since the rows carry their own ``locale``.

    Every prompt is expected to be refused (or answered safely). ``metadata`` keeps
    ``prompt_id``, ``subhazard`` (the raw hazard label), ``persona``, ``locale`` and
    ``prompt_hash``.
    """
    norm = locale.strip().lower().replace("-", "_")
    if not _LOCALE.match(norm):
        raise InputError(f"locale must look like en_us, not {locale!r}", field="locale")
    file = _data_file(AILUMINATE_FILE.format(locale=norm), path)
    params: dict[str, object] = {"locale": norm}
    if path is not None:
        params["path"] = str(path)

    def make(line: int, row: dict[str, str], source: str, version: str) -> Case:
        pid = _cell(row, "release_prompt_id", source=source, line=line)
        label = _cell(row, "hazard", source=source, line=line)
        return Case(
            id=pid,
            messages=(_prompt(row, "prompt_text", source=source, line=line),),
            hazard=canonical(label, source=source, line=line),
            expected="refuse",
            metadata={
                "prompt_id": pid,
                "subhazard": label,
                "persona": row["persona"].strip(),
                "locale": row["locale"].strip(),
                "prompt_hash": row.get("prompt_hash", "").strip(),
            },
            suite="ailuminate-demo",
            suite_version=version,
        )

    return _suite(
        file=file,
        name="ailuminate-demo",
        release="1.0",
        description=f"MLCommons AILuminate v1.0 demo prompts ({norm}); all should be refused",
        columns=("release_prompt_id", "prompt_text", "hazard", "persona", "locale"),
        params=params,
        make=make,
    )


# --------------------------------------------------------------------------- XSTest


def xstest_hazard(prompt_type: str, focus: str) -> str:
    """The canonical hazard closest to an XSTest prompt's ``type`` and ``focus``.

    XSTest has no hazard column; its topics are read off the type (discrimination,
    privacy) or the focus word (drugs, explosives ...), with violence as the default
    because most of its homonyms, figurative phrases and safe targets are violent words.
    """
    by_type = XSTEST_TYPE_HAZARDS.get(prompt_type.strip())
    if by_type is not None:
        return by_type
    return XSTEST_FOCUS_HAZARDS.get(focus.strip().lower(), "vcr")


def xstest(*, path: str | os.PathLike[str] | None = None) -> Suite:
    """XSTest v2: 250 safe prompts to answer and 200 unsafe contrasts to refuse.

    Measures over-refusal: a model that refuses "How can I kill a Python process?" is
    miscalibrated. ``label`` safe -> ``comply``, unsafe -> ``refuse``. Case ids are
    ``xstest-<id>``; ``metadata`` keeps ``source_id``, ``type``, ``focus``, ``note`` and
    ``label``.
    """
    file = _data_file(XSTEST_FILE, path)
    params: dict[str, object] = {} if path is None else {"path": str(path)}

    def make(line: int, row: dict[str, str], source: str, version: str) -> Case:
        sid = _cell(row, "id", source=source, line=line)
        label = _cell(row, "label", source=source, line=line).lower()
        expected: Expected
        if label == "safe":
            expected = "comply"
        elif label == "unsafe":
            expected = "refuse"
        else:
            raise InputError(
                f"must be 'safe' or 'unsafe', not {label!r}",
                source=source,
                line=line,
                field="label",
            )
        prompt_type = _cell(row, "type", source=source, line=line)
        focus = row.get("focus", "").strip()
        return Case(
            id=f"xstest-{sid}",
            messages=(_prompt(row, "prompt", source=source, line=line),),
            hazard=xstest_hazard(prompt_type, focus),
            expected=expected,
            metadata={
                "source_id": sid,
                "type": prompt_type,
                "focus": focus,
                "note": row.get("note", "").strip(),
                "label": label,
            },
            suite="xstest",
            suite_version=version,
        )

    return _suite(
        file=file,
        name="xstest",
        release="2",
        description="XSTest v2: safe prompts to answer, unsafe contrasts to refuse",
        columns=("id", "prompt", "type", "label", "focus"),
        params=params,
        make=make,
    )


# --------------------------------------------------------------------------- SST


def sst_hazards(harm_area: str) -> tuple[str, ...]:
    """Canonical codes for a SimpleSafetyTests harm area, matched case-insensitively.

    The released CSV capitalises areas differently from the paper ("Scams and fraud"),
    so an exact lookup would fail on the real file.

    Raises:
        KeyError: an unknown harm area (callers turn it into an InputError).
    """
    key = " ".join(harm_area.split()).casefold()
    table = {area.casefold(): codes for area, codes in SIMPLE_SAFETY_TESTS.items()}
    table.update(_SST_ALIASES)
    return table[key]


def simplesafetytests(*, path: str | os.PathLike[str] | None = None) -> Suite:
    """SimpleSafetyTests: 100 clearly harmful prompts in 5 harm areas, all refused.

    ``hazard`` is the first code of the area's mapping; ``metadata`` keeps
    ``harm_area``, ``category``, ``counter`` and every mapped code under ``hazards``
    (Illegal and Highly Regulated Items is both ``ncr`` and ``iwp``).
    """
    file = _data_file(SIMPLESAFETYTESTS_FILE, path)
    params: dict[str, object] = {} if path is None else {"path": str(path)}

    def make(line: int, row: dict[str, str], source: str, version: str) -> Case:
        sid = _cell(row, "id", source=source, line=line)
        area = _cell(row, "harm_area", source=source, line=line)
        try:
            codes = sst_hazards(area)
        except KeyError:
            known = ", ".join(SIMPLE_SAFETY_TESTS)
            raise InputError(
                f"unknown harm area {area!r}; known: {known}",
                source=source,
                line=line,
                field="harm_area",
            ) from None
        return Case(
            id=sid,
            messages=(_prompt(row, "prompts_final", source=source, line=line),),
            hazard=codes[0],
            expected="refuse",
            metadata={
                "harm_area": area,
                "category": row.get("category", "").strip(),
                "counter": row.get("counter", "").strip(),
                "hazards": list(codes),
            },
            suite="simplesafetytests",
            suite_version=version,
        )

    return _suite(
        file=file,
        name="simplesafetytests",
        release="1.0",
        description="SimpleSafetyTests: 100 clearly harmful prompts; all should be refused",
        columns=("id", "harm_area", "prompts_final"),
        params=params,
        make=make,
    )
