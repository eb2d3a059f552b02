"""Judges: decide the outcome of each response.

* :class:`RefusalJudge` (``refusal``): refused / partial / complied, from the bundled
  MiniLM embedder and a small trained head. The default refusal judge.
* :class:`KeywordRefusalJudge` (``keyword``): refusal-phrase matching; a baseline only.

Importing this package is cheap: the embedder loads on the first judgement.
"""

from __future__ import annotations

from assay.judges.keyword import KeywordRefusalJudge
from assay.judges.refusal import RefusalJudge

__all__ = ["KeywordRefusalJudge", "RefusalJudge"]
