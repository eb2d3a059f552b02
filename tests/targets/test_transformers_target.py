"""TransformersTarget on a tiny random model, its input checks, and the GGUF model cache."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assay.core.records import Attempt
from assay.errors import InputError, MissingDependencyError
from assay.targets import transformers as tt
from assay.targets.transformers import (
    GenerationSettings,
    LocalGenerator,
    TransformersTarget,
    cache_dir_for,
)

MakeAttempt = Callable[..., Attempt]
WORDS = ["<pad>", "<eos>", "<unk>", "user", "assistant", ":", "hello", "world", "how", "are"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-layer random Llama with a word-level tokenizer and no chat template (~0.1 MB)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    directory = tmp_path_factory.mktemp("tiny")
    vocab = {word: i for i, word in enumerate(WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(WORDS),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=None,
    )
    LlamaForCausalLM(config).save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory


async def test_generates_in_batches_for_concurrent_attempts(
    tiny_model: Path, make_attempt: MakeAttempt
) -> None:
    target = TransformersTarget(path=str(tiny_model), max_new_tokens=5, batch_size=8)
    prompts = ["hello", "how are", "hello world how are", "world", "are hello"]
    responses = await asyncio.gather(*(target.respond(make_attempt(p)) for p in prompts))
    for response in responses:
        assert response.finish_reason in ("stop", "length")
        assert response.completion_tokens is not None
        assert 1 <= response.completion_tokens <= 5
        assert response.prompt_tokens is not None and response.prompt_tokens > 0
    assert target.batch_stats.largest > 1
    assert target.generator.load_s is not None
    await target.aclose()
    assert not target.generator.loaded
    again = await target.respond(make_attempt("hello"))  # usable after aclose: reloads
    assert again.finish_reason in ("stop", "length")
    await target.aclose()


async def test_greedy_output_does_not_depend_on_the_batch(
    tiny_model: Path, make_attempt: MakeAttempt
) -> None:
    target = TransformersTarget(path=str(tiny_model), max_new_tokens=6, batch_size=8)
    alone = [await target.respond(make_attempt(p)) for p in ("hello", "how are you world")]
    together = await asyncio.gather(
        *(target.respond(make_attempt(p)) for p in ("hello", "how are you world", "are"))
    )
    assert [r.text for r in alone] == [r.text for r in together[:2]]
    await target.aclose()


async def test_a_prompt_longer_than_the_context_is_an_error_not_a_truncation(
    tiny_model: Path, make_attempt: MakeAttempt
) -> None:
    from assay.errors import TargetError

    target = TransformersTarget(path=str(tiny_model), max_new_tokens=5, batch_size=8)
    long = " ".join(["hello world"] * 40)  # 80 tokens; the model takes 64
    results = await asyncio.gather(
        target.respond(make_attempt(long)),
        target.respond(make_attempt("hello")),
        return_exceptions=True,
    )
    assert isinstance(results[0], TargetError) and results[0].kind == "context_length"
    assert "64" in str(results[0])
    assert not isinstance(results[1], BaseException) and results[1].finish_reason
    await target.aclose()


def test_spec_and_defaults(tiny_model: Path) -> None:
    target = TransformersTarget(path=str(tiny_model), batch_size=4)
    spec = target.spec()
    assert spec.name == "transformers"
    assert spec.params == {
        "path": str(tiny_model),
        "gguf_file": None,
        "max_new_tokens": 64,
        "batch_size": 4,
        "temperature": 0.0,
        "seed": 0,
        "threads": None,
    }
    assert TransformersTarget(**spec.params).spec() == spec
    assert TransformersTarget.default_concurrency == 32


def test_bad_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        TransformersTarget(path=str(tmp_path / "missing"))
    assert caught.value.field == "path"
    with pytest.raises(InputError) as caught:
        TransformersTarget(path=str(tmp_path))  # a folder with no config.json
    assert caught.value.field == "path"
    with pytest.raises(InputError) as caught:
        TransformersTarget(path=str(tmp_path), gguf_file="model.gguf")
    assert caught.value.field == "gguf_file"


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_new_tokens", 0), ("batch_size", 0), ("temperature", -1.0), ("threads", 0)],
)
def test_bad_settings_name_their_field(tiny_model: Path, field: str, value: Any) -> None:
    with pytest.raises(InputError) as caught:
        TransformersTarget(path=str(tiny_model), **{field: value})
    assert caught.value.field == field


def test_missing_transformers_names_the_extra(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "transformers" else real(name, *args)

    monkeypatch.setattr(tt.importlib.util, "find_spec", find_spec)
    with pytest.raises(MissingDependencyError) as caught:
        TransformersTarget(path=str(tiny_model))
    assert caught.value.package == "transformers"
    assert caught.value.extra == "embedded"


def test_a_gguf_file_path_is_split_into_folder_and_file(tmp_path: Path) -> None:
    model = tmp_path / "m.Q4.gguf"
    model.write_bytes(b"GGUF")
    assert tt.resolve_model_path(str(model), None) == (tmp_path, "m.Q4.gguf")


# --- the de-quantized model cache ------------------------------------------------------


def test_the_cache_key_follows_the_file(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"one")
    root = tmp_path / "cache"
    first = cache_dir_for(model, root)
    assert first is not None and first.parent == root and first.name.startswith("m-")
    assert cache_dir_for(model, root) == first
    os.utime(model, ns=(1, 1))
    assert cache_dir_for(model, root) != first
    assert cache_dir_for(tmp_path / "absent.gguf", root) is None


class _FakeConfig:
    def __init__(self) -> None:
        self.quantization_config = {"quant_method": "gguf"}


class _FakeModel:
    """Stands in for a model: records saves, writes a file like save_pretrained does."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.config = _FakeConfig()
        self.hf_quantizer: object = "gguf"

    def save_pretrained(self, directory: str) -> None:
        assert self.hf_quantizer is None  # cleared first, or transformers refuses
        Path(directory, "model.safetensors").write_text(self.origin)

    def eval(self) -> _FakeModel:
        return self


class _FakeTokenizer:
    pad_token_id = 0
    padding_side = "right"

    def save_pretrained(self, directory: str) -> None:
        Path(directory, "tokenizer.json").write_text("{}")


def _fake_loader(calls: list[str], broken: set[str]) -> Callable[..., tuple[Any, Any]]:
    def load(directory: Path, gguf_file: str | None = None) -> tuple[Any, Any]:
        origin = "gguf" if gguf_file else "cache"
        calls.append(origin)
        if str(directory) in broken:
            raise OSError("torn cache entry")
        return _FakeModel(origin), _FakeTokenizer()

    return load


def _generator(tmp_path: Path) -> LocalGenerator:
    model = tmp_path / "m.gguf"
    if not model.exists():
        model.write_bytes(b"GGUF")
    return LocalGenerator(tmp_path, "m.gguf", GenerationSettings(), cache_root=tmp_path / "cache")


def test_a_gguf_load_fills_the_cache_and_the_next_load_uses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(tt, "_from_pretrained", _fake_loader(calls, set()))
    monkeypatch.setattr(tt, "_quiet_progress_bars", _no_op_context)
    first = _generator(tmp_path)
    first.load()
    entry = cache_dir_for(tmp_path / "m.gguf", tmp_path / "cache")
    assert entry is not None and (entry / "assay-cache.json").is_file()
    second = _generator(tmp_path)
    second.load()
    assert calls == ["gguf", "cache"]
    assert second.loaded_from_cache and not first.loaded_from_cache


def test_a_broken_cache_falls_back_to_the_gguf_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = cache_dir_for(_generator(tmp_path).directory / "m.gguf", tmp_path / "cache")
    assert entry is not None
    entry.mkdir(parents=True)
    (entry / "assay-cache.json").write_text(json.dumps({"entry": entry.name}))
    calls: list[str] = []
    monkeypatch.setattr(tt, "_from_pretrained", _fake_loader(calls, {str(entry)}))
    monkeypatch.setattr(tt, "_quiet_progress_bars", _no_op_context)
    generator = _generator(tmp_path)
    model, _ = generator.load()
    assert calls == ["cache", "gguf"]
    assert model.origin == "gguf"
    assert not generator.loaded_from_cache
    assert (entry / "assay-cache.json").is_file()  # rebuilt after the fallback


def test_an_unwritable_cache_does_not_fail_the_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    calls: list[str] = []
    monkeypatch.setattr(tt, "_from_pretrained", _fake_loader(calls, set()))
    monkeypatch.setattr(tt, "_quiet_progress_bars", _no_op_context)
    model, _ = _generator(tmp_path).load()
    assert model.origin == "gguf"


def test_stale_entries_of_the_same_model_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    keep = root / "m-0123456789abcdef"
    stale = root / "m-fedcba9876543210"
    other = root / "m-extra-0123456789abcdef"  # another model whose name starts alike
    partial = root / "m-aaaaaaaaaaaaaaaa"  # no marker: maybe still being written
    for entry in (keep, stale, other):
        entry.mkdir(parents=True)
        (entry / "assay-cache.json").write_text("{}")
    partial.mkdir()
    tt._remove_stale(keep)
    assert keep.exists() and other.exists() and partial.exists()
    assert not stale.exists()


class _no_op_context:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None
