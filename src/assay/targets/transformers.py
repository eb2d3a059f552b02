"""A local Hugging Face model (a directory, or a GGUF file) as a target, batched on the CPU.

:class:`LocalGenerator` owns the model: it loads it once (lazily, thread-safely), renders
each conversation with the model's chat template and generates a whole batch at a time
with left padding. :class:`TransformersTarget` puts a
:class:`~assay.targets.batching.MicroBatcher` in front of it, so the engine's many
concurrent ``respond`` calls become a few batched ``generate`` calls.

GGUF files are de-quantized to fp32 on load, which takes ~15 s for a 135M model. The
result is cached as safetensors under ``$XDG_CACHE_HOME/assay/gguf-fp32`` (default
``~/.cache/assay``), keyed by the GGUF file's path, size and mtime, so later loads take
under a second. Any problem with the cache falls back to loading the GGUF file.

torch and transformers are imported inside functions: ``import assay`` stays fast and
works without them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from assay.core.component import Component
from assay.core.records import Attempt, Response
from assay.errors import InputError, MissingDependencyError, TargetError
from assay.targets.batching import BatchStats, MicroBatcher

__all__ = ["GenerationSettings", "LocalGenerator", "TransformersTarget", "default_cache_root"]

_log = logging.getLogger(__name__)

Conversation = list[dict[str, str]]

#: Bump when the layout of a cache entry changes, so old entries are not trusted.
_CACHE_FORMAT = 1
_CACHE_MARKER = "assay-cache.json"


@dataclass(frozen=True)
class GenerationSettings:
    """How a :class:`LocalGenerator` decodes.

    Attributes:
        max_new_tokens: the most tokens generated per prompt.
        temperature: 0 for greedy decoding; above 0 samples at that temperature.
        seed: torch seed set before each sampled batch, so a batch of the same prompts
            samples the same way again (a prompt's sample still depends on its batch).
        threads: torch intra-op threads. ``None`` keeps torch's default. Note that
            torch's thread count is process-wide.
    """

    max_new_tokens: int = 64
    temperature: float = 0.0
    seed: int = 0
    threads: int | None = None


def require_transformers(*, gguf: bool) -> None:
    """Fail early, with the extra to install, when the local-model stack is missing."""
    needed = ["torch", "transformers"] + (["gguf", "accelerate"] if gguf else [])
    for package in needed:
        if importlib.util.find_spec(package) is None:
            raise MissingDependencyError(package, "embedded")


def default_cache_root() -> Path:
    """Where de-quantized GGUF models are cached (``$XDG_CACHE_HOME/assay/gguf-fp32``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "assay" / "gguf-fp32"


class LocalGenerator:
    """Loads a local causal LM once and generates for batches of conversations.

    Thread-safe: ``load`` may be called from any thread; ``generate`` is meant to be
    called from one thread at a time (the batcher's worker).

    Args:
        directory: the model directory (``config.json`` and weights, or the GGUF's folder).
        gguf_file: the GGUF file's name inside ``directory``, if the model is one.
        settings: how to decode.
        cache_root: where to cache a de-quantized GGUF model; ``None`` disables caching.
    """

    def __init__(
        self,
        directory: Path,
        gguf_file: str | None,
        settings: GenerationSettings,
        *,
        cache_root: Path | None = None,
    ) -> None:
        self.directory = directory
        self.gguf_file = gguf_file
        self.settings = settings
        self.cache_root = cache_root
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        #: Seconds the last load took, and whether it came from the cache.
        self.load_s: float | None = None
        self.loaded_from_cache = False

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> tuple[Any, Any]:
        """The (model, tokenizer), loading them on first use. Blocking: ~15 s cold."""
        with self._lock:
            if self._model is None:
                start = time.perf_counter()
                if self.settings.threads is not None:
                    import torch

                    torch.set_num_threads(self.settings.threads)
                with _quiet_progress_bars():
                    model, tokenizer = self._load_any()
                tokenizer.padding_side = "left"
                if tokenizer.pad_token_id is None:
                    tokenizer.pad_token = tokenizer.eos_token
                self._model, self._tokenizer = model.eval(), tokenizer
                self.load_s = time.perf_counter() - start
                _log.info("loaded %s in %.1f s", self.directory, self.load_s)
            return self._model, self._tokenizer

    def unload(self) -> None:
        """Drop the model so its memory (~1 GB for the embedded one) can be freed."""
        with self._lock:
            self._model = self._tokenizer = None

    def _load_any(self) -> tuple[Any, Any]:
        if self.gguf_file is None:
            return _from_pretrained(self.directory)
        gguf_path = self.directory / self.gguf_file
        cache = cache_dir_for(gguf_path, self.cache_root) if self.cache_root else None
        if cache is not None:
            cached = _load_cache(cache)
            if cached is not None:
                self.loaded_from_cache = True
                return cached
        model, tokenizer = _from_pretrained(self.directory, gguf_file=self.gguf_file)
        if cache is not None:
            _save_cache(model, tokenizer, cache)
        return model, tokenizer

    def generate(self, conversations: list[Conversation]) -> list[Response | TargetError]:
        """One response per conversation (or the error of a conversation that can't render).

        ``latency_s`` of each response is the time the whole batch took to generate.
        """
        import torch

        model, tokenizer = self.load()
        limit = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
        room = max(1, limit - self.settings.max_new_tokens)
        texts: list[str] = []
        results: list[Response | TargetError | None] = []
        for conversation in conversations:
            try:
                text = _render(tokenizer, conversation)
            except Exception as exc:  # a template that rejects this conversation only
                results.append(TargetError(f"cannot render the prompt: {exc}", kind="prompt"))
                continue
            n = len(tokenizer(text, add_special_tokens=False)["input_ids"])
            if n > room:  # never cut a prompt silently: the request may be in the cut part
                results.append(
                    TargetError(
                        f"prompt is {n} tokens; the model takes {limit} "
                        f"({self.settings.max_new_tokens} kept for the answer)",
                        kind="context_length",
                    )
                )
                continue
            texts.append(text)
            results.append(None)
        if not texts:
            return [r for r in results if r is not None]
        encoded = tokenizer(
            texts,
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
        )
        start = time.perf_counter()
        with torch.inference_mode():
            if self.settings.temperature > 0:
                torch.manual_seed(self.settings.seed)
            output = model.generate(**encoded, **self._decoding(model, tokenizer))
        elapsed = time.perf_counter() - start
        responses = iter(_split(output, encoded, tokenizer, _eos_ids(model, tokenizer), elapsed))
        return [r if r is not None else next(responses) for r in results]

    def _decoding(self, model: Any, tokenizer: Any) -> dict[str, Any]:
        """Keyword arguments for ``generate``: greedy, or plain temperature sampling."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.settings.max_new_tokens,
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": sorted(_eos_ids(model, tokenizer)),
        }
        if self.settings.temperature > 0:
            kwargs.update(do_sample=True, temperature=self.settings.temperature, top_k=0, top_p=1.0)
        else:
            kwargs["do_sample"] = False
        return kwargs


def _render(tokenizer: Any, conversation: Conversation) -> str:
    """The prompt text: the model's chat template, or plain ``role: content`` lines."""
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(
            conversation, add_generation_prompt=True, tokenize=False
        )
        return str(text)
    lines = [f"{turn['role']}: {turn['content']}" for turn in conversation]
    return "\n".join([*lines, "assistant:"])


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    """Every token id that ends a reply (the generation config may list several)."""
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids = configured if isinstance(configured, list) else [configured]
    found = {int(i) for i in ids if i is not None}
    if tokenizer.eos_token_id is not None:
        found.add(int(tokenizer.eos_token_id))
    return found


def _split(
    output: Any, encoded: Any, tokenizer: Any, eos: set[int], elapsed: float
) -> Iterator[Response]:
    """Cut the generated part of each row at its first end-of-sequence token."""
    prompt_width = encoded["input_ids"].shape[1]
    prompt_lengths = encoded["attention_mask"].sum(dim=1).tolist()
    for row, prompt_tokens in zip(output[:, prompt_width:].tolist(), prompt_lengths, strict=True):
        stop = next((i for i, token in enumerate(row) if token in eos), None)
        tokens = row if stop is None else row[:stop]
        yield Response(
            text=tokenizer.decode(tokens, skip_special_tokens=True).strip(),
            finish_reason="length" if stop is None else "stop",
            latency_s=elapsed,
            prompt_tokens=int(prompt_tokens),
            completion_tokens=len(row) if stop is None else stop + 1,
        )


def _from_pretrained(directory: Path, gguf_file: str | None = None) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs: dict[str, Any] = {"local_files_only": True}
    if gguf_file is not None:
        kwargs["gguf_file"] = gguf_file
    tokenizer = AutoTokenizer.from_pretrained(str(directory), **kwargs)
    model = AutoModelForCausalLM.from_pretrained(str(directory), **kwargs)
    return model, tokenizer


@contextmanager
def _quiet_progress_bars() -> Iterator[None]:
    """Hide transformers' load/convert progress bars: they would garble assay's own."""
    import importlib

    hf_logging: Any = importlib.import_module("transformers.utils.logging")  # untyped
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


# --- the de-quantized GGUF cache -------------------------------------------------------


def cache_dir_for(gguf_path: Path, root: Path) -> Path | None:
    """The cache entry of one GGUF file, named by a hash of what identifies its content.

    The key holds the file's resolved path, size and mtime (a re-downloaded or edited
    file gets a new entry) and the transformers version (which does the conversion).
    Returns ``None`` if the file cannot be stat-ed.
    """
    try:
        import transformers

        stat = gguf_path.resolve().stat()
    except (OSError, ImportError):
        return None
    digest = hashlib.sha256(
        json.dumps(
            _cache_key(gguf_path, stat.st_size, stat.st_mtime_ns, transformers.__version__)
        ).encode()
    )
    return root / f"{gguf_path.stem}-{digest.hexdigest()[:16]}"


def _cache_key(path: Path, size: int, mtime_ns: int, version: str) -> dict[str, Any]:
    return {
        "format": _CACHE_FORMAT,
        "gguf": str(path.resolve()),
        "size": size,
        "mtime_ns": mtime_ns,
        "transformers": version,
    }


def _load_cache(entry: Path) -> tuple[Any, Any] | None:
    """The cached (model, tokenizer), or ``None`` if the entry is absent or unusable."""
    if not (entry / _CACHE_MARKER).is_file():
        return None
    try:
        return _from_pretrained(entry)
    except Exception as exc:  # a torn or stale entry: rebuild it from the GGUF file
        _log.warning("ignoring the model cache at %s: %r", entry, exc)
        shutil.rmtree(entry, ignore_errors=True)
        return None


def _save_cache(model: Any, tokenizer: Any, entry: Path) -> None:
    """Write the de-quantized model to ``entry`` atomically; never fail the load.

    ``save_pretrained`` refuses a model that still says it is GGUF-quantized, so the
    quantizer and its config are cleared first (the weights are already fp32). The entry
    is written to a temporary folder and renamed, so a reader sees all of it or nothing.
    """
    tmp = entry.with_name(f"{entry.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        tmp.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        (tmp / _CACHE_MARKER).write_text(json.dumps({"entry": entry.name}), encoding="utf-8")
        os.replace(tmp, entry)
    except Exception as exc:  # no space, read-only home, a race with another process
        _log.warning("could not cache the model at %s: %r", entry, exc)
        shutil.rmtree(tmp, ignore_errors=True)
        return
    _remove_stale(entry)


def _remove_stale(entry: Path) -> None:
    """Delete older entries of the same model (complete ones only: others may be writing)."""
    stem = entry.name.rsplit("-", 1)[0]
    for sibling in entry.parent.iterdir():
        name, _, digest = sibling.name.rpartition("-")
        if (
            name == stem
            and len(digest) == 16
            and sibling != entry
            and (sibling / _CACHE_MARKER).is_file()
        ):
            shutil.rmtree(sibling, ignore_errors=True)


# --- the target --------------------------------------------------------------------------


def resolve_model_path(path: str, gguf_file: str | None) -> tuple[Path, str | None]:
    """Check a model location and split it into (directory, GGUF file name or None).

    ``path`` may be a model directory (with ``config.json``), a directory plus
    ``gguf_file``, or a ``.gguf`` file itself.
    """
    location = Path(path).expanduser()
    if gguf_file is not None:
        if not location.is_dir():
            raise InputError(f"{path!r} is not a directory", field="path")
        if not (location / gguf_file).is_file():
            raise InputError(f"no file {gguf_file!r} in {path!r}", field="gguf_file")
        return location, gguf_file
    if location.is_file() and location.suffix.lower() == ".gguf":
        return location.parent, location.name
    if location.is_dir():
        if not (location / "config.json").is_file():
            raise InputError(
                f"{path!r} has no config.json (for a GGUF model pass gguf_file)", field="path"
            )
        return location, None
    raise InputError(f"{path!r} does not exist", field="path")


def _check_settings(settings: GenerationSettings, batch_size: int) -> None:
    if settings.max_new_tokens < 1:
        raise InputError("must be at least 1", field="max_new_tokens")
    if batch_size < 1:
        raise InputError("must be at least 1", field="batch_size")
    if settings.temperature < 0:
        raise InputError("must not be negative", field="temperature")
    if settings.threads is not None and settings.threads < 1:
        raise InputError("must be at least 1", field="threads")


def _conversation_size(conversation: Conversation) -> int:
    """A cheap stand-in for prompt length in tokens, used to group similar prompts."""
    return sum(len(turn["content"]) for turn in conversation)


class TransformersTarget(Component):
    """A local causal LM loaded with transformers, generating in micro-batches.

    Args:
        path: a model directory (``config.json`` + weights), the directory holding
            ``gguf_file``, or a ``.gguf`` file.
        gguf_file: the GGUF file inside ``path``, when the model is one.
        max_new_tokens: the most tokens generated per answer.
        batch_size: the most prompts generated together.
        temperature: 0 (the default) decodes greedily; above 0 samples.
        seed: the torch seed for sampling.
        threads: torch CPU threads (process-wide); ``None`` keeps torch's default.
    """

    name = "transformers"
    version = "1"
    #: Requests the engine keeps in flight when the user sets no concurrency: two
    #: batches' worth, so the next batch is waiting when one ends.
    default_concurrency: ClassVar[int] = 32

    def __init__(
        self,
        *,
        path: str,
        gguf_file: str | None = None,
        max_new_tokens: int = 64,
        batch_size: int = 16,
        temperature: float = 0.0,
        seed: int = 0,
        threads: int | None = None,
    ) -> None:
        self.path = path
        self.gguf_file = gguf_file
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.temperature = temperature
        self.seed = seed
        self.threads = threads
        settings = GenerationSettings(max_new_tokens, temperature, seed, threads)
        _check_settings(settings, batch_size)
        directory, gguf = resolve_model_path(path, gguf_file)
        require_transformers(gguf=gguf is not None)
        self._setup(LocalGenerator(directory, gguf, settings, cache_root=default_cache_root()))

    def _setup(self, generator: LocalGenerator) -> None:
        self.generator = generator
        self._batcher: MicroBatcher[Conversation, Response] = MicroBatcher(
            generator.generate,
            max_batch=self.batch_size,
            size_of=_conversation_size,
            name=f"assay-{self.name}",
        )

    @property
    def batch_stats(self) -> BatchStats:
        """How many batches were generated, and how large (shows batching happened)."""
        return self._batcher.stats

    def load(self) -> None:
        """Load the model now (blocking) instead of on the first batch."""
        self.generator.load()

    async def respond(self, attempt: Attempt) -> Response:
        """Queue the attempt's messages for the next batch and await its own answer."""
        conversation = [{"role": m.role, "content": m.content} for m in attempt.messages]
        return await self._batcher.submit(conversation)

    async def aclose(self) -> None:
        """Stop the batch worker and free the model; a later ``respond`` reloads it.

        A batch still generating (an interrupted run) is not waited for beyond a couple
        of seconds: its thread is a daemon and its results go nowhere.
        """
        import asyncio

        await asyncio.to_thread(self._batcher.close, 2.0)
        self.generator.unload()
        self._setup(self.generator)
