"""Real whisper-base in Hush and in faster-whisper, decoding alike: what the real-weights benchmarks compare.

Both read the same original file, the faster-whisper (CTranslate2) folder that
``scripts/fetch_weights.py`` fetches: faster-whisper as it is, Hush through its own
conversion into a transformers checkpoint. Both decode the way OpenAI's ``transcribe``
does with ``temperature=0``: greedy, timestamps on, the checkpoint's suppressed tokens and
blank suppression, no conditioning on the previous window's text, no fallback and so no
no-speech skipping (faster-whisper skips on its own even without fallback; that is turned
off here). A fixed temperature keeps the runs deterministic, so two systems differ only by
their numbers and features, never by a dice roll.

Features differ in one place. Whisper was trained on 30 s windows of audio padded with
silence before the log-mel step, and OpenAI's code, transformers and Hush pad the audio.
faster-whisper pads the finished spectrogram with zeros instead: a normalised log-mel of
0 is a steady hum 40 dB over the silence floor, which the model never heard in training,
under the end of every clip shorter than 30 s and of a long recording's last window.
``FasterWhisper(silence_padding=True)`` pads with the log-mel of silence (what padding the
audio gives), so Hush and faster-whisper see the same features.

The speech is espeak-ng reading distinct plain sentences (``tests/support/english_speech.py``),
cached under ``common.CACHE``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jiwer
import numpy as np
from common import CACHE

from scripts import fetch_weights
from tests.support import english_speech

speech_corpus = english_speech.speech_corpus
SAMPLE_RATE = english_speech.SAMPLE_RATE
#: Speeds the sentences are read at (words per minute), cycled against the voices.
SENTENCE_SPEEDS = (130, 155, 180)


def whisper_base() -> tuple[Path, Path]:
    """The CTranslate2 folder and Hush's conversion of it (made once, into the benchmarks' cache)."""
    weights = next(w for w in fetch_weights.MODELS if w.name == "whisper-base")
    folder = fetch_weights.weights_dir() / weights.name
    if not fetch_weights.is_ready(folder, weights):
        raise SystemExit(f"{folder} is missing: run python scripts/fetch_weights.py")
    os.environ.setdefault("HUSH_CACHE_DIR", str(CACHE / "hush-cache"))
    from backend.checkpoints import locate

    return folder, locate.locate(str(folder))


def load_average() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


# -- speech --------------------------------------------------------------------------------


def _speak(recipe: tuple[str, str, str, int, int]) -> np.ndarray:
    text, voice, variant, speed, pitch = recipe
    return speech_corpus.synthesize(text, voice, variant, speed, pitch)


def sentence_clips(count: int, seed: int = 11) -> list[tuple[np.ndarray, str, str]]:
    """``count`` distinct sentences, one clip each: ``(audio, text, "voice+variant speed")``.

    Voices (seven) and speeds (three) are cycled, so every voice is heard at every speed;
    each clip has 0.2-0.8 s of silence around the sentence, its own level and the light
    background noise of ``english_speech.recording``."""
    path = CACHE / f"sentences-{count}-seed{seed}.npz"
    if path.exists():
        data = np.load(path)
        ends = np.cumsum(data["lengths"])
        audio = data["audio"]
        rows = zip(ends, data["lengths"], data["texts"], data["how"], strict=True)
        return [(audio[e - n : e], str(t), str(h)) for e, n, t, h in rows]
    speech_corpus.check_tools()
    rng = np.random.default_rng(seed)
    texts = english_speech.sentences(count, seed)
    recipes = []
    for i, text in enumerate(texts):
        voice, variant = english_speech.VOICES[i % len(english_speech.VOICES)]
        recipes.append((text, voice, variant, SENTENCE_SPEEDS[i % len(SENTENCE_SPEEDS)], int(rng.integers(35, 65))))
    with multiprocessing.Pool(os.cpu_count()) as pool:  # espeak-ng is single-threaded
        spoken = pool.map(_speak, recipes)
    clips = []
    for (text, voice, variant, speed, _), audio in zip(recipes, spoken, strict=True):
        lead, tail = (np.zeros(int(rng.uniform(0.2, 0.8) * SAMPLE_RATE), np.float32) for _ in range(2))
        audio = np.concatenate([lead, audio * np.float32(10 ** (rng.uniform(-6, 2) / 20)), tail])
        audio = np.clip(speech_corpus.add_noise(audio, rng, 35.0, reference=0.2), -1, 1).astype(np.float32)
        clips.append((audio, text, f"{voice}{'+' + variant if variant else ''} {speed}"))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        audio=np.concatenate([c[0] for c in clips]),
        lengths=np.array([len(c[0]) for c in clips]),
        texts=np.array([c[1] for c in clips]),
        how=np.array([c[2] for c in clips]),
    )
    return clips


def recording(minutes: float, seed: int = 7) -> tuple[np.ndarray, str]:
    """``english_speech.recording`` (sentences with pauses), cached: 16 kHz samples and the text."""
    path = CACHE / f"english-{minutes:g}min-seed{seed}.wav"
    if not path.exists() or not path.with_suffix(".txt").exists():
        speech_corpus.check_tools()
        print(f"synthesizing {minutes:g} min of speech into {path} …", file=sys.stderr, flush=True)
        audio, text = english_speech.recording(minutes, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        speech_corpus.write_wav(path, audio)
        path.with_suffix(".txt").write_text(text + "\n")
    from backend.audio import decode

    return decode(path), path.with_suffix(".txt").read_text().strip()


# -- word error rate -----------------------------------------------------------------------


def normaliser():
    """Whisper's English normaliser (transformers' copy of OpenAI's), without a spelling list:
    lower case, punctuation and hyphens out, contractions spelled out ("won't" → "will not"),
    titles ("Mr" → "mister") and numbers written as digits ("twenty five" and "25" alike),
    so only a wrong word counts, not a way of writing it. The sentences use no British or
    American spellings, so the list of those (not shipped offline) is not needed."""
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    return EnglishTextNormalizer({})


def word_errors(references: list[str], hypotheses: list[str]) -> jiwer.WordOutput:
    """jiwer's alignment of the normalised texts (``.wer``, ``.substitutions`` …)."""
    normalise = normaliser()
    refs = [normalise(r) for r in references]
    return jiwer.process_words(refs, [normalise(h) or "<nothing>" for h in hypotheses])


# -- the systems ---------------------------------------------------------------------------


class Hush:
    """Hush's engine on the converted checkpoint, greedy, without word timing (measured elsewhere)."""

    def __init__(self, folder: Path, precision: str, long_form: str = "auto") -> None:
        from backend.engine.engine import Engine
        from backend.transcript import Options

        self.engine = Engine(str(folder), device="cpu", precision=precision, long_form=long_form)
        self.engine.start()
        status = self.engine.wait_until_loaded(600)
        if status.state != "ready":
            raise SystemExit(status.detail)
        self.options = Options(language="en", temperature=0.0, beam_size=1, words=False)

    def transcribe(self, audio: np.ndarray) -> str:
        return self.engine.transcribe(audio, self.options).text

    def close(self) -> None:
        self.engine.close()


class FasterWhisper:
    """faster-whisper on the original CTranslate2 folder, decoding as ``Hush`` does.

    ``batched``: its ``BatchedInferencePipeline`` (VAD, chunks decoded together), the
    counterpart of Hush's batched long-form path. ``silence_padding``: see the module's
    docstring."""

    def __init__(
        self, folder: Path, compute_type: str, threads: int, batched: bool = False, silence_padding: bool = False
    ) -> None:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.model = WhisperModel(str(folder), device="cpu", compute_type=compute_type, cpu_threads=threads)
        self.pipeline = BatchedInferencePipeline(self.model) if batched else None
        self.silence_padding = silence_padding

    def transcribe(self, audio: np.ndarray) -> str:
        options = dict(
            language="en", beam_size=1, temperature=0.0, condition_on_previous_text=False, no_speech_threshold=None
        )
        with padded_with_silence() if self.silence_padding else contextlib.nullcontext():
            if self.pipeline is not None:
                segments, _ = self.pipeline.transcribe(audio, batch_size=8, **options)
            else:
                segments, _ = self.model.transcribe(audio, vad_filter=False, **options)
            return " ".join(s.text.strip() for s in segments)

    def close(self) -> None:
        del self.model, self.pipeline


@contextlib.contextmanager
def padded_with_silence() -> Iterator[None]:
    """faster-whisper's windows padded with the log-mel of silence instead of zeros.

    A log-mel spectrogram is clamped to 8 decades under its loudest value and silence sits
    on that floor: normalised, the spectrogram's maximum minus 2. A window is a slice of
    the recording's spectrogram (of a chunk's, in the batched pipeline), whose floor it gets."""
    import faster_whisper.transcribe as module
    from faster_whisper.feature_extractor import FeatureExtractor

    made: list[np.ndarray] = []
    extract, pad = FeatureExtractor.__call__, module.pad_or_trim

    def features(self, *args, **kwargs) -> np.ndarray:
        made.append(extract(self, *args, **kwargs))
        return made[-1]

    def pad_or_trim(array: np.ndarray, length: int = 3000, *, axis: int = -1) -> np.ndarray:
        missing = length - array.shape[axis]
        if missing <= 0:
            return pad(array, length, axis=axis)
        spectrogram = next(f for f in reversed(made) if np.may_share_memory(f, array))
        widths = [(0, 0)] * array.ndim
        widths[axis] = (0, missing)
        return np.pad(array, widths, constant_values=float(spectrogram.max()) - 2.0)

    FeatureExtractor.__call__, module.pad_or_trim = features, pad_or_trim
    try:
        yield
    finally:
        FeatureExtractor.__call__, module.pad_or_trim = extract, pad


def settle(seconds: float = 0.3) -> None:
    """A pause between two systems' runs: OpenMP threads spin for a while after their last
    parallel region (Intel's for 200 ms), and must not eat into the next system's time."""
    time.sleep(seconds)
