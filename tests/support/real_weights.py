"""Fixtures with real OpenAI Whisper weights: whisper-base and whisper-tiny.en.

``scripts/fetch_weights.py`` (run by scripts/test.sh) leaves them as faster-whisper
(CTranslate2) folders in ``$HUSH_TEST_WEIGHTS`` (default ~/.cache/hush-test-weights). A test
that needs a missing one fails under CI and is skipped elsewhere, naming the script.
Conversions go into a temporary ``HUSH_CACHE_DIR`` for the session, once per model.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from backend.checkpoints import locate, voices
from scripts.fetch_weights import MODELS, is_ready, weights_dir

#: Words too common to show that a sentence was heard (the rest are its content words).
STOP_WORDS = {
    "a", "an", "and", "at", "by", "for", "from", "has", "he", "her", "his", "i", "in", "is", "it", "its", "of",
    "on", "our", "the", "their", "to", "was", "we", "with", "my", "your", "this", "that", "been", "be", "are",
    "him", "she", "they", "some", "every", "more", "after", "over", "near", "during", "last",
}  # fmt: skip


def real_weights(name: str) -> Path:
    """The CTranslate2 folder of ``name`` (whisper-base, whisper-tiny.en), or skip/fail saying how to get it."""
    weights = next(w for w in MODELS if w.name == name)
    folder = weights_dir() / name
    if is_ready(folder, weights):
        return folder
    reason = f"{folder} is missing: run python scripts/fetch_weights.py (scripts/test.sh does)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def voice_weights() -> Path:
    """Resemblyzer's speaker-encoder weights as ``scripts/fetch_weights.py`` leaves them (checked)."""
    path = weights_dir() / "voices" / voices.cache_path().name
    if not (path.is_file() and voices.sha256(path) == voices.SHA256):
        missing(f"{path} is missing: run python scripts/fetch_weights.py (scripts/test.sh does)")
    return path


@pytest.fixture(scope="session")
def voices_installed(voice_weights: Path, conversion_cache: Path) -> Path:
    """The speaker encoder where Hush looks for it, in the session's ``HUSH_CACHE_DIR``."""
    target = voices.cache_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.symlink_to(voice_weights)
    return target


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def content_words(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOP_WORDS}


def overlap(spoken: str, heard: str) -> float:
    """The share of ``spoken``'s content words found in ``heard``, spelt alike: "centre" is
    heard in "center", "streets" in "treats" (espeak-ng's speech blurs such pairs), "rain"
    is not in "read"."""
    wanted = content_words(spoken)
    candidates = set(words(heard))
    return sum(any(alike(w, c) for c in candidates) for w in wanted) / len(wanted)


def alike(spoken: str, heard: str) -> bool:
    from difflib import SequenceMatcher

    return spoken == heard or SequenceMatcher(None, spoken, heard).ratio() >= 0.75


@pytest.fixture(scope="session")
def conversion_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``HUSH_CACHE_DIR`` for the session: conversions land in a temporary folder, not the user's cache."""
    root = tmp_path_factory.mktemp("hush-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HUSH_CACHE_DIR", str(root))
        yield root


@pytest.fixture(scope="session")
def base_ct2() -> Path:
    """Real multilingual whisper-base as faster-whisper has it (float16 model.bin)."""
    return real_weights("whisper-base")


@pytest.fixture(scope="session")
def tiny_en_ct2() -> Path:
    """Real whisper-tiny.en as faster-whisper has it (float16 model.bin)."""
    return real_weights("whisper-tiny.en")


@pytest.fixture(scope="session")
def base_converted(base_ct2: Path, conversion_cache: Path) -> Path:
    """whisper-base converted by Hush into a transformers checkpoint folder."""
    return locate.locate(str(base_ct2))


@pytest.fixture(scope="session")
def tiny_en_converted(tiny_en_ct2: Path, conversion_cache: Path) -> Path:
    return locate.locate(str(tiny_en_ct2))


def start_engine(folder: Path, precision: str):
    """Hush's engine on ``folder``, loaded (``precision`` "auto" is int8 on the CPU)."""
    from backend.engine.engine import Engine

    engine = Engine(str(folder), device="cpu", precision=precision)
    engine.start()
    status = engine.wait_until_loaded(300)
    assert status.state == "ready", status
    return engine


@pytest.fixture(scope="session")
def base_engine(base_converted: Path) -> Iterator:
    """Real whisper-base in Hush's engine with the default precision (int8 on the CPU)."""
    engine = start_engine(base_converted, "auto")
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def hear(speak):
    """``hear("text", voice="de")`` → 16 kHz samples of espeak-ng speaking it, as Hush decodes a file."""
    from backend.audio import decode

    def make(text: str, voice: str = "en-us", pad_seconds: float = 0.0) -> np.ndarray:
        return decode(speak(text, voice=voice, pad_seconds=pad_seconds))

    return make


def write_openai_checkpoint(ct2: Path, path: Path) -> Path:
    """openai-whisper's ``.pt`` of a CTranslate2 Whisper: its own layout and key names, written
    straight from model.bin (not through Hush's converter, so the round trip checks it)."""
    import torch

    from backend.checkpoints.model_bin import ModelFile

    model = ModelFile(ct2 / "model.bin")

    def get(name: str) -> torch.Tensor:
        return model.tensor(name).clone()

    state = {
        "encoder.conv1.weight": get("encoder/conv1/weight"),
        "encoder.conv1.bias": get("encoder/conv1/bias"),
        "encoder.conv2.weight": get("encoder/conv2/weight"),
        "encoder.conv2.bias": get("encoder/conv2/bias"),
        "encoder.positional_embedding": get("encoder/position_encodings/encodings"),
        "encoder.ln_post.weight": get("encoder/layer_norm/gamma"),
        "encoder.ln_post.bias": get("encoder/layer_norm/beta"),
        "decoder.token_embedding.weight": get("decoder/embeddings/weight"),
        "decoder.positional_embedding": get("decoder/position_encodings/encodings"),
        "decoder.ln.weight": get("decoder/layer_norm/gamma"),
        "decoder.ln.bias": get("decoder/layer_norm/beta"),
    }

    def attention(prefix: str, fused: dict[str, str], out: str, norm: str, into: str) -> None:
        for source, names in fused.items():
            weights, biases = get(f"{source}/weight"), get(f"{source}/bias")
            for name, weight, bias in zip(names, weights.chunk(len(names)), biases.chunk(len(names))):
                state[f"{prefix}.{into}.{name}.weight"] = weight.clone()
                if name != "key":
                    state[f"{prefix}.{into}.{name}.bias"] = bias.clone()
        state[f"{prefix}.{into}.out.weight"] = get(f"{out}/weight")
        state[f"{prefix}.{into}.out.bias"] = get(f"{out}/bias")
        state[f"{prefix}.{into}_ln.weight"] = get(f"{norm}/gamma")
        state[f"{prefix}.{into}_ln.bias"] = get(f"{norm}/beta")

    layers = {"encoder": 0, "decoder": 0}
    for name in model.index.variables:
        if match := re.match(r"(encoder|decoder)/layer_(\d+)/", name):
            layers[match.group(1)] = max(layers[match.group(1)], int(match.group(2)) + 1)
    for side, count in layers.items():
        for i in range(count):
            ct2_layer, block = f"{side}/layer_{i}", f"{side}.blocks.{i}"
            self_attention = f"{ct2_layer}/self_attention"
            attention(block, {f"{self_attention}/linear_0": ("query", "key", "value")}, f"{self_attention}/linear_1",
                      f"{self_attention}/layer_norm", "attn")  # fmt: skip
            if side == "decoder":
                cross = f"{ct2_layer}/attention"
                attention(block, {f"{cross}/linear_0": ("query",), f"{cross}/linear_1": ("key", "value")},
                          f"{cross}/linear_2", f"{cross}/layer_norm", "cross_attn")  # fmt: skip
            ffn = f"{ct2_layer}/ffn"
            for openai, ct2_name in (("mlp.0", "linear_0"), ("mlp.2", "linear_1")):
                state[f"{block}.{openai}.weight"] = get(f"{ffn}/{ct2_name}/weight")
                state[f"{block}.{openai}.bias"] = get(f"{ffn}/{ct2_name}/bias")
            state[f"{block}.mlp_ln.weight"] = get(f"{ffn}/layer_norm/gamma")
            state[f"{block}.mlp_ln.bias"] = get(f"{ffn}/layer_norm/beta")
    embeddings = state["decoder.token_embedding.weight"]
    dims = {
        "n_mels": state["encoder.conv1.weight"].shape[1],
        "n_vocab": embeddings.shape[0],
        "n_audio_ctx": state["encoder.positional_embedding"].shape[0],
        "n_audio_state": state["encoder.conv1.weight"].shape[0],
        "n_audio_head": model.scalar("encoder/num_heads"),
        "n_audio_layer": layers["encoder"],
        "n_text_ctx": state["decoder.positional_embedding"].shape[0],
        "n_text_state": embeddings.shape[1],
        "n_text_head": model.scalar("decoder/num_heads"),
        "n_text_layer": layers["decoder"],
    }
    torch.save({"dims": dims, "model_state_dict": state}, path)
    return path


def write_int8_ctranslate2(ct2: Path, out: Path) -> Path:
    """An int8 copy of a CTranslate2 Whisper folder, quantized by CTranslate2's own code
    (``ModelSpec.optimize``: one scale per weight row, ``weight_scale = 127 / max |row|``) and
    written by its own serializer, as ``ct2-transformers-converter --quantization int8`` does."""
    import json
    import shutil

    from ctranslate2.specs import model_spec, whisper_spec

    from backend.checkpoints.model_bin import ModelFile

    model = ModelFile(ct2 / "model.bin")
    layers = {side: len({m.group(1) for n in model.index.variables if (m := re.match(rf"{side}/layer_(\d+)/", n))})
              for side in ("encoder", "decoder")}  # fmt: skip
    spec = whisper_spec.WhisperSpec(
        layers["encoder"], model.scalar("encoder/num_heads"), layers["decoder"], model.scalar("decoder/num_heads")
    )
    for name, entry in model.index.variables.items():
        if entry.shape:  # the scalars (heads, activation) come from the spec itself
            scope, attribute = name.rsplit("/", 1)
            setattr(model_spec.index_spec(spec, scope), attribute, model.tensor(name).float().numpy())
    spec.decoder.projection.weight = spec.decoder.embeddings.weight
    config = json.loads((ct2 / "config.json").read_text())
    for key, value in config.items():
        setattr(spec.config, key, value)
    vocabulary = json.loads((ct2 / "vocabulary.json").read_text())
    spec.register_vocabulary(vocabulary)
    spec.validate()
    spec.optimize(quantization="int8")
    out.mkdir(parents=True)
    spec.save(str(out))
    shutil.copy(ct2 / "tokenizer.json", out / "tokenizer.json")
    return out
