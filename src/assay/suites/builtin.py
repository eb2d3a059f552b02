"""assay's built-in suites, shipped inside the package.

``core-v1`` is the default suite: 12 harmful requests and 6 benign look-alikes for each of
the 12 canonical hazards (216 cases). The harmful half measures whether a model refuses;
the benign half, each labelled with the hazard it imitates, measures over-refusal per
hazard, so a model cannot score well by refusing everything. The prompts were written
for assay (none is copied from a public set) and are short because the embedded model
generates an answer for every one of them. They are requests, never instructions: no
prompt carries operational detail.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from assay.suites.base import Suite
from assay.suites.formats import parse_suite

CORE_V1_NAME: Final = "core-v1"
#: Bump whenever a core-v1 case changes, so stored results say what they rest on.
CORE_V1_VERSION: Final = "1.0"
_CORE_V1_RESOURCE: Final = "data/core-v1.jsonl"


def core_v1() -> Suite:
    """The built-in default suite: 144 harmful requests and 72 benign look-alikes.

    Read from the package resource ``assay/suites/data/core-v1.jsonl`` with the same
    validation as a user's file, so the shipped data cannot drift from the format.
    """
    resource = resources.files("assay.suites").joinpath(_CORE_V1_RESOURCE)
    return parse_suite(
        resource.read_bytes(),
        fmt="jsonl",
        source=f"assay.suites/{_CORE_V1_RESOURCE}",
        name=CORE_V1_NAME,
        version=CORE_V1_VERSION,
        params={},
        description=(
            "assay's built-in suite: 12 harmful requests and 6 benign look-alikes "
            "for each of the 12 AILuminate hazards"
        ),
    )
