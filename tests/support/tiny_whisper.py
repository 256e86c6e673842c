"""Build tiny Whisper checkpoints with Whisper's real token layout.

Real Whisper weights cannot be downloaded on our build machines, so tests (and the
training script) make their own checkpoints.  Everything the app relies on is laid out
exactly like the published checkpoints: ``<|startoftranscript|>`` followed directly by
the language tokens, the task tokens, ``<|notimestamps|>`` as the last special token,
then the 1501 timestamp tokens, and a generation config with ``lang_to_id``,
``task_to_id`` and friends.  A checkpoint saved here loads through the same
``from_pretrained`` code path a user's whisper-small goes through.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (
    GenerationConfig,
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperForConditionalGeneration,
    WhisperProcessor,
    WhisperTokenizer,
)
from transformers.models.whisper.tokenization_whisper import LANGUAGES

#: The words the tiny models know (and the trained one understands).
WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "yes",
    "no",
    "up",
    "down",
    "left",
    "right",
    "on",
    "off",
    "stop",
    "go",
]

#: whisper-small knows the first 99 languages of this table (``yue`` came with large-v3).
LANGUAGE_CODES = list(LANGUAGES)[:99]

#: openai/whisper-small's published architecture (its config.json), for speed work on random weights.
WHISPER_SMALL = dict(
    d_model=768,
    encoder_layers=12,
    decoder_layers=12,
    encoder_attention_heads=12,
    decoder_attention_heads=12,
    encoder_ffn_dim=3072,
    decoder_ffn_dim=3072,
    num_mel_bins=80,
    max_source_positions=1500,
    max_target_positions=448,
)
WHISPER_SMALL_TEXT_VOCAB = 50257  # so the vocabulary is whisper-small's 51865 tokens

TIMESTAMP_COUNT = 1501  # <|0.00|> ... <|30.00|> in steps of 0.02 s
EOT_BIAS = 2.0  # end-of-text logit relative to the words: ~10 words per window


def special_tokens() -> list[str]:
    """Whisper's special tokens in their real order (ids follow this order)."""
    return [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *[f"<|{code}|>" for code in LANGUAGE_CODES],
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nospeech|>",
        "<|notimestamps|>",
    ]


def build_tokenizer(words: list[str] = WORDS, text_vocab_size: int | None = None) -> WhisperTokenizer:
    """A byte-level BPE in which every vocabulary word (with and without a leading
    space, lower and capitalised) is a single token, plus Whisper's special and
    timestamp tokens.

    ``text_vocab_size=50257`` pads the text vocabulary with unused entries so every
    special token gets the id it has in whisper-small (51865 tokens in all)."""
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=100_000,
        min_frequency=1,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    sentences = [" ".join(words), " ".join(w.capitalize() for w in words)]
    sentences += [w for w in words] + [w.capitalize() for w in words]
    # every word also after a space, or the first word of the list ("zero") never
    # becomes a single "Ġzero" token
    sentences += [f" {w}" for w in words] + [f" {w.capitalize()}" for w in words]
    bpe.train_from_iterator(sentences * 4, trainer=trainer)
    model_state = json.loads(bpe.to_str())["model"]
    vocab: dict[str, int] = model_state["vocab"]
    for filler in range(len(vocab), text_vocab_size or 0):
        vocab[f"<unused{filler}>"] = filler
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model_state["merges"]]

    tokenizer = WhisperTokenizer(vocab=vocab, merges=merges)
    tokenizer.add_tokens(special_tokens(), special_tokens=True)
    # listed as special too, as whisper-small's tokenizer config does: the tokenizer takes
    # the id after the last of them for <|0.00|> when it decodes timestamps
    tokenizer.add_special_tokens({"extra_special_tokens": special_tokens()[1:]})
    tokenizer.add_tokens([f"<|{i * 0.02:.2f}|>" for i in range(TIMESTAMP_COUNT)])
    return tokenizer


def build_generation_config(tokenizer: WhisperTokenizer, config: WhisperConfig) -> GenerationConfig:
    """The generation config Whisper's long-form ``generate`` needs."""
    ids = tokenizer.convert_tokens_to_ids
    eot = ids("<|endoftext|>")
    return GenerationConfig(
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        decoder_start_token_id=ids("<|startoftranscript|>"),
        prev_sot_token_id=ids("<|startofprev|>"),
        no_timestamps_token_id=ids("<|notimestamps|>"),
        lang_to_id={f"<|{c}|>": ids(f"<|{c}|>") for c in LANGUAGE_CODES},
        task_to_id={"transcribe": ids("<|transcribe|>"), "translate": ids("<|translate|>")},
        is_multilingual=True,
        max_initial_timestamp_index=50,
        max_length=config.max_target_positions,
        begin_suppress_tokens=[ids("Ġ"), eot],
        suppress_tokens=[],
        return_timestamps=False,
    )


def build_config(tokenizer: WhisperTokenizer, **overrides: int) -> WhisperConfig:
    """A small Whisper architecture over ``tokenizer``'s vocabulary."""
    ids = tokenizer.convert_tokens_to_ids
    eot = ids("<|endoftext|>")
    arch = dict(
        d_model=64,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        num_mel_bins=80,
        max_source_positions=1500,
        max_target_positions=96,
    )
    arch.update(overrides)
    return WhisperConfig(
        vocab_size=len(tokenizer),
        decoder_start_token_id=ids("<|startoftranscript|>"),
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        begin_suppress_tokens=[ids("Ġ"), eot],
        suppress_tokens=[],
        **arch,
    )


def build_feature_extractor(config: WhisperConfig) -> WhisperFeatureExtractor:
    """Log-mel features whose window matches the encoder's positions (2 frames each)."""
    hop = 160
    chunk_length = config.max_source_positions * 2 * hop // 16_000
    return WhisperFeatureExtractor(
        feature_size=config.num_mel_bins, sampling_rate=16_000, hop_length=hop, chunk_length=chunk_length
    )


def shape_for_visible_text(model: WhisperForConditionalGeneration, tokenizer: WhisperTokenizer) -> None:
    """Make a random model's greedy output readable words instead of special tokens.

    The decoder's final layer norm gets a large fixed bias ``v``, so every hidden state
    is ``v`` plus an audio-dependent part.  The (untied) output rows of the vocabulary
    words point along ``v`` (so words win), special and timestamp rows point away from
    it, and end-of-text sits just below the words so a transcript ends after a handful
    of words rather than at ``max_length``. A confident ``<|0.00|>`` keeps the average
    log-probability above Whisper's fallback threshold, so decoding stays greedy.
    """
    gen = torch.Generator().manual_seed(1)
    d = model.config.d_model
    direction = torch.randn(d, generator=gen)
    direction /= direction.norm()
    ids = tokenizer.convert_tokens_to_ids
    word_ids = ids([f"Ġ{word}" for word in WORDS])
    with torch.no_grad():
        model.model.decoder.layer_norm.bias.copy_(direction * 10.0)
        rows = model.proj_out.weight
        noise = torch.randn(rows.shape, generator=gen)  # wide margins: int8 picks the same words
        noise -= torch.outer(noise @ direction, direction)
        rows.copy_(-direction.expand_as(rows))
        rows[word_ids] = noise[word_ids] + direction
        rows[ids("<|endoftext|>")] = noise[ids("<|endoftext|>")] + EOT_BIAS * direction
        rows[ids("<|0.00|>")] = 0.5 * direction  # a confident first timestamp: no temperature fallback


def build_model(
    *, seed: int = 0, visible_text: bool = True, text_vocab_size: int | None = None, **arch: int
) -> tuple[WhisperForConditionalGeneration, WhisperProcessor]:
    """A random-weight Whisper model (with its generation config) and its processor.

    ``visible_text=False`` gives a plain, tied-embedding model to train."""
    torch.manual_seed(seed)
    tokenizer = build_tokenizer(text_vocab_size=text_vocab_size)
    config = build_config(tokenizer, **arch)
    config.tie_word_embeddings = not visible_text  # shaping needs its own output rows
    model = WhisperForConditionalGeneration(config)
    model.generation_config = build_generation_config(tokenizer, config)
    if visible_text:
        shape_for_visible_text(model, tokenizer)
    processor = WhisperProcessor(feature_extractor=build_feature_extractor(config), tokenizer=tokenizer)
    return model, processor


def save_checkpoint(model: WhisperForConditionalGeneration, processor: WhisperProcessor, folder: str | Path) -> Path:
    """Model, generation config, tokenizer and processor, all with ``save_pretrained``."""
    folder = Path(folder)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_checkpoint(
    folder: str | Path, *, seed: int = 0, visible_text: bool = True, text_vocab_size: int | None = None, **arch: int
) -> Path:
    """Save a random-weight Whisper checkpoint (model, tokenizer, processor, generation
    config) to ``folder`` with ``save_pretrained``."""
    model, processor = build_model(seed=seed, visible_text=visible_text, text_vocab_size=text_vocab_size, **arch)
    return save_checkpoint(model, processor, folder)


if __name__ == "__main__":
    import sys

    print(build_checkpoint(sys.argv[1] if len(sys.argv) > 1 else "tiny-whisper"))
