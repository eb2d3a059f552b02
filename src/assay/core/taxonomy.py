"""The hazard taxonomy: AILuminate v1's twelve hazards are the canonical codes.

Other taxonomies are *data* mapped onto these codes, so a judge that speaks Llama Guard's
S1-S14 or a suite labelled with SimpleSafetyTests' harm areas is translated, not
re-implemented.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from assay.errors import InputError

#: Canonical hazard code -> human name (MLCommons AILuminate v1.0).
HAZARDS: Final = MappingProxyType(
    {
        "vcr": "Violent Crimes",
        "ncr": "Non-Violent Crimes",
        "src": "Sex-Related Crimes",
        "cse": "Child Sexual Exploitation",
        "dfm": "Defamation",
        "spc": "Specialized Advice",
        "prv": "Privacy Violations",
        "ipv": "Intellectual Property Violations",
        "iwp": "Indiscriminate Weapons (CBRNE)",
        "hte": "Hate",
        "ssh": "Suicide & Self-Harm",
        "sxc": "Sexual Content",
    }
)

#: Llama Guard 3 (8B) / Llama Guard 4 category -> canonical codes.
#: S13 Elections is AILuminate's spc_ele subhazard; S14 Code Interpreter Abuse has no
#: AILuminate counterpart and maps to Non-Violent Crimes (cyber crime) by our choice.
LLAMA_GUARD_3: Final = MappingProxyType(
    {
        "S1": ("vcr",),
        "S2": ("ncr",),
        "S3": ("src",),
        "S4": ("cse",),
        "S5": ("dfm",),
        "S6": ("spc",),
        "S7": ("prv",),
        "S8": ("ipv",),
        "S9": ("iwp",),
        "S10": ("hte",),
        "S11": ("ssh",),
        "S12": ("sxc",),
        "S13": ("spc",),
        "S14": ("ncr",),
    }
)

#: SimpleSafetyTests' five harm areas (the CSV's ``harm_area`` values) -> canonical codes.
SIMPLE_SAFETY_TESTS: Final = MappingProxyType(
    {
        "Suicide, Self-Harm, and Eating Disorders": ("ssh",),
        "Physical Harm and Violence": ("vcr",),
        "Physical Harm": ("vcr",),
        "Illegal and Highly Regulated Items": ("ncr", "iwp"),
        "Scams and Fraud": ("ncr",),
        "Child Abuse": ("cse",),
        "Child safety": ("cse",),
    }
)


def canonical(code: str, *, source: str | None = None, line: int | None = None) -> str:
    """Return the canonical hazard code for ``code``.

    AILuminate subhazards (``spc_fin``, ``sxc_prn``) fold into their parent, as
    modelbench does with ``hazard.split("_")[0]``.

    Raises:
        InputError: ``code`` is not one of the twelve hazards.
    """
    base = code.strip().lower().split("_")[0]
    if base not in HAZARDS:
        raise InputError(
            f"unknown hazard {code!r}; expected one of {', '.join(HAZARDS)}",
            source=source,
            line=line,
            field="hazard",
        )
    return base
