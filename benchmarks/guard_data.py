"""Write a labelled guard-calibration file from the shared public prompt sets.

Usage::

    .venv/bin/python benchmarks/guard_data.py OUT.jsonl

Rows: ``{"text", "label": "safe"|"unsafe", "hazard", "source"}`` from XSTest (250 safe
look-alikes, 200 unsafe contrasts), SimpleSafetyTests (100 unsafe) and the AILuminate
demo set (1,200 unsafe, en_US), read from ``../shared/data`` (never copied into the repo,
never used to train the embedded judges). Used for the README's calibration figures:
``assay guard calibrate --data OUT.jsonl``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def rows() -> list[dict[str, str]]:
    from assay.suites.public import ailuminate_demo, simplesafetytests, xstest

    out = []
    for suite in (xstest(), simplesafetytests(), ailuminate_demo()):
        for case in suite.cases:
            label = "unsafe" if case.expected == "refuse" else "safe"
            out.append(
                {"text": case.prompt, "label": label, "hazard": case.hazard, "source": suite.name}
            )
    return out


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: guard_data.py OUT.jsonl")
    data = rows()
    with Path(args[0]).open("w", encoding="utf-8") as f:
        for row in data:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    unsafe = sum(r["label"] == "unsafe" for r in data)
    print(f"wrote {len(data)} rows ({unsafe} unsafe, {len(data) - unsafe} safe) to {args[0]}")


if __name__ == "__main__":
    main()
