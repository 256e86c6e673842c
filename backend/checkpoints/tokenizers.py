"""Whisper's tokenizer, for checkpoints that carry only part of it or none.

A faster-whisper folder lists every token in id order (``vocabulary.json``/``.txt``) and
usually has the BPE merges in a ``tokenizer.json``; an openai-whisper ``.pt`` holds neither:
openai-whisper builds its tokenizer from tiktoken files inside its own package. So Hush ships
Whisper's two byte-level BPEs itself, ``whisper_tokenizers/multilingual.json.xz`` (every
multilingual model) and ``gpt2.json.xz`` (the ``.en`` models): the text tokens in id order and
the merges, ~320 kB each, taken from the tokenizer.json of faster-whisper's whisper-base and
whisper-tiny.en (OpenAI's tokenizer, MIT like the weights; ``tests/checkpoints/test_convert.py`` checks
them against those files). The special tokens follow the text tokens in a fixed order, and
their count follows from the vocabulary size, so the two files serve every Whisper size.
"""

from __future__ import annotations

import json
import lzma
import re
from functools import cache
from pathlib import Path

from transformers import WhisperTokenizer
from transformers.models.whisper.tokenization_whisper import LANGUAGES

BUNDLED = Path(__file__).with_name("whisper_tokenizers")
END_OF_TEXT = "<|endoftext|>"
NO_TIMESTAMPS = "<|notimestamps|>"
TIMESTAMPS = [f"<|{i * 0.02:.2f}|>" for i in range(1501)]  # <|0.00|> … <|30.00|>
TIMESTAMP = re.compile(r"<\|\d+\.\d\d\|>")
#: The vocabulary size from which a Whisper model is multilingual (openai-whisper's own test).
MULTILINGUAL_VOCAB = 51865


class TokenizerError(ValueError):
    """The tokens do not have Whisper's layout; the message says what differs."""


def is_multilingual(vocab_size: int) -> bool:
    return vocab_size >= MULTILINGUAL_VOCAB


@cache
def bundled(multilingual: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The shipped BPE: text tokens in id order, and the merges as ``"left right"``."""
    name = "multilingual" if multilingual else "gpt2"
    data = json.loads(lzma.decompress((BUNDLED / f"{name}.json.xz").read_bytes()))
    return tuple(data["vocab"]), tuple(data["merges"])


def special_tokens(languages: int) -> list[str]:
    """Whisper's special tokens in id order, for a model that knows ``languages`` languages
    (99 up to large-v2, 100 from large-v3 on; the ``.en`` models have the 99 tokens too)."""
    if not 0 <= languages <= len(LANGUAGES):
        raise TokenizerError(f"a vocabulary with room for {languages} language tokens is not Whisper's")
    return [
        END_OF_TEXT,
        "<|startoftranscript|>",
        *[f"<|{code}|>" for code in list(LANGUAGES)[:languages]],
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nospeech|>",
        NO_TIMESTAMPS,
    ]


def standard_vocabulary(vocab_size: int) -> list[str]:
    """Every token of a Whisper model with ``vocab_size`` tokens, in id order, from the shipped BPE."""
    text, _ = bundled(is_multilingual(vocab_size))
    languages = vocab_size - len(text) - len(TIMESTAMPS) - len(special_tokens(0))
    if languages < 1:
        raise TokenizerError(f"{vocab_size} tokens are too few for a Whisper vocabulary")
    return [*text, *special_tokens(languages), *TIMESTAMPS]


def standard(vocab_size: int) -> WhisperTokenizer:
    """The tokenizer of a Whisper model with ``vocab_size`` tokens that came without one."""
    return build(standard_vocabulary(vocab_size), bundled(is_multilingual(vocab_size))[1])


def read_vocabulary(folder: Path) -> list[str] | None:
    """A CTranslate2 folder's token list (``vocabulary.json``, or ``vocabulary.txt``: one a line)."""
    if (folder / "vocabulary.json").is_file():
        return json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
    if (folder / "vocabulary.txt").is_file():
        lines = (folder / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
        return lines[:-1] if lines and lines[-1] == "" else lines
    return None


def read_merges(tokenizer_json: Path) -> list[str]:
    """The BPE merges of a Hugging Face ``tokenizer.json`` (either of its two spellings)."""
    merges = json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]["merges"]
    return [" ".join(m) if isinstance(m, list) else m for m in merges]


def merges_for(vocabulary: list[str]) -> tuple[str, ...]:
    """The shipped merges, when ``vocabulary``'s text tokens are the shipped ones."""
    text, merges = bundled(is_multilingual(len(vocabulary)))
    if tuple(vocabulary[: len(text)]) != text or vocabulary[len(text)] != END_OF_TEXT:
        raise TokenizerError("its text tokens are not Whisper's, and it has no tokenizer.json with their merges")
    return merges


def build(vocabulary: list[str], merges: list[str] | tuple[str, ...]) -> WhisperTokenizer:
    """A transformers Whisper tokenizer whose token ids are ``vocabulary``'s positions.

    Laid out as the published checkpoints are: the text BPE, the special tokens (also
    listed as extra special tokens, so the tokenizer finds ``<|0.00|>`` right after the
    last of them), then the timestamps as plain added tokens."""
    if END_OF_TEXT not in vocabulary or NO_TIMESTAMPS not in vocabulary:
        raise TokenizerError(f"its vocabulary lacks {END_OF_TEXT} or {NO_TIMESTAMPS}")
    first, last = vocabulary.index(END_OF_TEXT), vocabulary.index(NO_TIMESTAMPS)
    specials, timestamps = vocabulary[first : last + 1], vocabulary[last + 1 :]
    if not all(TIMESTAMP.fullmatch(t) for t in timestamps):
        raise TokenizerError("the tokens after <|notimestamps|> are not all timestamps")
    tokenizer = WhisperTokenizer(
        vocab={token: i for i, token in enumerate(vocabulary[:first])},
        merges=[tuple(m.split(" ")) for m in merges],
    )
    tokenizer.add_tokens(specials, special_tokens=True)
    tokenizer.add_special_tokens({"extra_special_tokens": specials[1:]})
    tokenizer.add_tokens(timestamps)
    if tokenizer.convert_tokens_to_ids(vocabulary[first:]) != list(range(first, len(vocabulary))):
        raise TokenizerError("its special tokens do not take the ids the model was trained with")
    return tokenizer


def non_speech_tokens(tokenizer: WhisperTokenizer) -> list[int]:
    """The symbol tokens Whisper never lets a transcript contain (openai-whisper's
    ``Tokenizer.non_speech_tokens``, the ``suppress_tokens`` of the published configs
    without the special tokens): speaker tags, brackets, music notes."""
    symbols = [*'"#()*+/:;<=>@[\\]^_`{|}~「」『』']
    symbols += ["<<", ">>", "<<<", ">>>", "--", "---", "-(", "-[", "('", '("', "((", "))", "(((", ")))", "[[", "]]"]
    symbols += ["{{", "}}", "♪♪", "♪♪♪"]
    miscellaneous = set("♩♪♫♬♭♮♯")  # multi-token in some vocabularies: their first token is safe to drop

    def encode(text: str) -> list[int]:
        return tokenizer.encode(text, add_special_tokens=False)

    result = {encode(" -")[0], encode(" '")[0]}
    for symbol in [*symbols, *sorted(miscellaneous)]:
        for tokens in (encode(symbol), encode(" " + symbol)):
            if len(tokens) == 1 or symbol in miscellaneous:
                result.add(tokens[0])
    return sorted(result)
