"""Seeded synthetic English speech over the tiny vocabulary (espeak-ng + sox).

Every utterance is 1-12 words from :data:`tiny_whisper.WORDS`, spoken by one of several
espeak-ng English voices combined with a male/female variant, at 130-210 words per
minute with a random pitch.  Audio comes back as 16 kHz mono float32 with the leading
and trailing silence trimmed, so an utterance's first and last sample are speech (the
training script needs exact segment times).  Background noise and level changes are
added on top (:func:`make_clip`, :func:`make_long_form`), so the clean utterances can be
cached and re-used with fresh noise every time.  :func:`random_voices` makes up further
voice variants (pitch, vocal-tract length, formants, roughness) in a private copy of
espeak-ng's data, for training.  Evaluation sets (:func:`short_clips`,
:func:`long_form`) also use :data:`HELD_OUT_VARIANTS`, which the training never hears.

Nothing here downloads anything: ``espeak-ng`` and ``sox`` (Debian packages) do the work.
The same ``seed`` always gives the same corpus.

    python -m tests.support.speech_corpus --count 5 --seed 1 --out /tmp/clips   # writes WAVs
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import wave
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from backend.audio import pcm16
from tests.support.tiny_whisper import WORDS

SAMPLE_RATE = 16_000

#: espeak-ng English voices (languages/accents).
VOICES = (
    "en-us",
    "en",
    "en-gb-x-rp",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)

#: espeak-ng voice variants the training corpus uses ("" is the voice's own default).
TRAIN_VARIANTS = (
    "", "m1", "m2", "m3", "m4", "m5", "m7", "f1", "f2", "f3", "f5",
    "klatt", "klatt2", "klatt3", "Alex", "Andy", "Annie", "david", "ed", "john",
    "linda", "max", "Michael", "paul", "rob", "robert", "steph", "zac", "anika",
    "Alicia", "belinda", "benjamin", "caleb", "iven", "quincy", "travis", "victor",
    "aunty", "grandpa", "norbert",
)  # fmt: skip

#: Variants the training never hears; evaluation sets mix them in as "other voices".
HELD_OUT_VARIANTS = ("m6", "f4", "Andrea", "edward", "steph2", "Lee")

ALL_VARIANTS = TRAIN_VARIANTS + HELD_OUT_VARIANTS

SPEED_RANGE = (130, 210)  # words per minute
PITCH_RANGE = (25, 75)  # espeak-ng -p (0..99, default 50)
MAX_WORDS = 12

CACHE_VERSION = 1


@dataclass
class Utterance:
    """A clean, trimmed utterance and how it was spoken."""

    audio: np.ndarray  # float32, 16 kHz mono, no leading/trailing silence
    text: str  # lower-case words separated by single spaces
    voice: str
    variant: str
    speed: int
    pitch: int

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def random_sentence(rng: np.random.Generator, min_words: int = 1, max_words: int = MAX_WORDS) -> str:
    """1-12 random vocabulary words; now and then a run of digits or a repeated word."""
    n = int(rng.integers(min_words, max_words + 1))
    if rng.random() < 0.2:  # digit strings, like a phone number or a PIN
        words = [WORDS[int(i)] for i in rng.integers(0, 10, n)]
    else:
        words = [WORDS[int(i)] for i in rng.integers(0, len(WORDS), n)]
    if n > 1 and rng.random() < 0.1:  # a doubled word ("go go")
        k = int(rng.integers(0, n - 1))
        words[k + 1] = words[k]
    return " ".join(words)


def synthesize(
    text: str,
    voice: str = "en-us",
    variant: str = "",
    speed: int = 170,
    pitch: int = 50,
    gap: int = 0,
    data_path: str | Path | None = None,
) -> np.ndarray:
    """Speak ``text`` with espeak-ng; 16 kHz mono float32 with silence trimmed.

    ``data_path`` is a folder holding an ``espeak-ng-data`` copy (see :func:`random_voices`)."""
    name = f"{voice}+{variant}" if variant else voice
    path = [f"--path={data_path}"] if data_path else []
    espeak = subprocess.run(
        ["espeak-ng", *path, "-v", name, "-s", str(speed), "-p", str(pitch), "-g", str(gap), "--stdout", text],
        check=True,
        capture_output=True,
    )
    sox = subprocess.run(
        ["sox", "-t", "wav", "-", "-t", "raw", "-r", str(SAMPLE_RATE), "-e", "float", "-b", "32", "-c", "1", "-"],
        input=espeak.stdout,
        check=True,
        capture_output=True,
    )
    audio = np.frombuffer(sox.stdout, dtype=np.float32).copy()
    return trim(audio)


def trim(audio: np.ndarray, threshold: float = 2e-3, margin: float = 0.01) -> np.ndarray:
    """Cut leading/trailing silence (keeping ``margin`` seconds)."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if len(loud) == 0:
        return audio[:0]
    pad = int(margin * SAMPLE_RATE)
    return audio[max(0, loud[0] - pad) : loud[-1] + pad + 1]


def random_recipe(
    rng: np.random.Generator,
    voices: tuple[str, ...] = VOICES,
    variants: tuple[str, ...] = TRAIN_VARIANTS,
    text: str | None = None,
) -> tuple[str, str, str, int, int, int]:
    """What to say and how: ``(text, voice, variant, speed, pitch, gap)`` for :func:`synthesize`."""
    text = text if text is not None else random_sentence(rng)
    voice = voices[int(rng.integers(len(voices)))]
    variant = variants[int(rng.integers(len(variants)))]
    speed = int(rng.integers(SPEED_RANGE[0], SPEED_RANGE[1] + 1))
    pitch = int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1))
    gap = int(rng.choice([0, 0, 0, 1, 2]))  # extra pause between words, 10 ms units
    return text, voice, variant, speed, pitch, gap


def random_utterance(
    rng: np.random.Generator,
    voices: tuple[str, ...] = VOICES,
    variants: tuple[str, ...] = TRAIN_VARIANTS,
    text: str | None = None,
    data_path: str | Path | None = None,
) -> Utterance:
    """One utterance with a random voice, variant, speed and pitch."""
    return _speak((*random_recipe(rng, voices, variants, text), data_path))


def _speak(recipe: tuple) -> Utterance:
    text, voice, variant, speed, pitch, _gap, _data_path = recipe
    return Utterance(synthesize(*recipe), text, voice, variant, speed, pitch)


def espeak_data_dir() -> Path:
    """Where the installed espeak-ng keeps its data (``espeak-ng --version`` says)."""
    version = subprocess.run(["espeak-ng", "--version"], check=True, capture_output=True, text=True).stdout
    return Path(version.split("Data at:")[1].strip())


def random_voices(count: int, seed: int, folder: str | Path) -> tuple[Path, tuple[str, ...]]:
    """``count`` made-up voice variants (random pitch, vocal-tract length, formants,
    roughness...) in a private copy of espeak-ng's data under ``folder``.

    Returns the ``data_path`` to pass to :func:`synthesize` and the variant names.
    More voices than espeak-ng ships is what makes the model cope with voices it never
    heard.  Nothing outside ``folder`` is touched."""
    root = Path(folder) / f"espeak-voices-{count}-{seed}"
    data = root / "espeak-ng-data"
    if not data.exists():
        tmp = root.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(espeak_data_dir(), tmp / "espeak-ng-data")
        tmp.replace(root) if not root.exists() else shutil.rmtree(tmp)
    rng = np.random.default_rng(seed)
    names = []
    for i in range(count):
        name = f"hush{seed}x{i:03d}"
        female = rng.random() < 0.5
        base = rng.uniform(150, 230) if female else rng.uniform(75, 135)
        tract = rng.uniform(1.02, 1.22) if female else rng.uniform(0.86, 1.04)  # formant scale
        lines = [
            "language variant",
            f"name {name}",
            f"gender {'female' if female else 'male'}",
            f"pitch {base:.0f} {base * rng.uniform(1.15, 1.6):.0f}",
        ]
        for k in range(9):
            freq = 100 * tract * rng.uniform(0.93, 1.07)
            lines.append(f"formant {k} {freq:.0f} {rng.uniform(70, 115):.0f} {rng.uniform(70, 160):.0f}")
        if rng.random() < 0.3:
            lines.append(f"flutter {rng.integers(0, 25)}")
        if rng.random() < 0.3:
            lines.append(f"roughness {rng.integers(0, 5)}")
        if rng.random() < 0.25:
            lines.append(f"echo {rng.integers(60, 250)} {rng.integers(5, 25)}")
        if rng.random() < 0.2:
            lines.append(f"breath {' '.join(str(int(v)) for v in rng.integers(0, 40, 8))}")
        if rng.random() < 0.25:
            lines.append(f"klatt {rng.integers(1, 5)}")
        (data / "voices" / "!v" / name).write_text("\n".join(lines) + "\n")
        names.append(name)
    return root, tuple(names)


def make_corpus(
    count: int,
    seed: int,
    variants: tuple[str, ...] = TRAIN_VARIANTS,
    voices: tuple[str, ...] = VOICES,
    cache_dir: str | Path | None = None,
    progress: bool = False,
    made_up_voices: int = 0,
) -> list[Utterance]:
    """``count`` random utterances; the same arguments always give the same corpus.

    ``made_up_voices`` adds that many :func:`random_voices` to ``variants`` (they need a
    ``cache_dir`` to live in).  With ``cache_dir`` the corpus is stored there as an
    ``.npz`` and re-loaded next time.
    """
    key = json.dumps([CACHE_VERSION, count, seed, list(variants), list(voices), made_up_voices])
    cache = None
    if cache_dir is not None:
        digest = hashlib.sha1(key.encode()).hexdigest()[:12]
        cache = Path(cache_dir) / f"corpus-{count}-{seed}-{digest}.npz"
        if cache.exists():
            return load_corpus(cache)
    data_path = None
    if made_up_voices:
        if cache_dir is None:
            raise ValueError("made-up voices need a cache_dir")
        data_path, extra = random_voices(made_up_voices, seed, cache_dir)
        variants = tuple(variants) + extra
    rng = np.random.default_rng(seed)
    recipes = [(*random_recipe(rng, voices, variants), data_path) for _ in range(count)]
    utterances = []
    with multiprocessing.Pool(os.cpu_count()) as pool:  # espeak-ng is single-threaded
        for utterance in pool.imap(_speak, recipes, chunksize=20):
            utterances.append(utterance)
            if progress and len(utterances) % 1000 == 0:
                print(f"  synthesized {len(utterances)}/{count}", flush=True)
    if cache is not None:
        save_corpus(utterances, cache)
    return utterances


def save_corpus(utterances: list[Utterance], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lengths = np.array([len(u.audio) for u in utterances], dtype=np.int64)
    meta = [{k: v for k, v in asdict(u).items() if k != "audio"} for u in utterances]
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, audio=np.concatenate([u.audio for u in utterances]), lengths=lengths, meta=json.dumps(meta))
    tmp.replace(path)


def load_corpus(path: Path) -> list[Utterance]:
    data = np.load(path)
    meta = json.loads(str(data["meta"]))
    ends = np.cumsum(data["lengths"])
    audio = data["audio"]
    return [Utterance(audio[e - n : e], **m) for e, n, m in zip(ends, data["lengths"], meta)]


# ----------------------------------------------------------------------------------------
# Noise and level


def noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-RMS white, pink-ish or brown-ish noise."""
    kind = rng.integers(3)
    if kind == 0:
        out = rng.standard_normal(n).astype(np.float32)
    else:  # shaped in the frequency domain (power-of-two FFT: fast for any n)
        size = 1 << max(1, (n - 1).bit_length())
        spectrum = np.fft.rfft(rng.standard_normal(size))
        f = np.arange(len(spectrum), dtype=np.float64) * (SAMPLE_RATE / size)
        f[0] = 1.0
        if kind == 1:  # pink-ish: 1/f power
            spectrum /= np.sqrt(np.maximum(f, 20.0))
        else:  # brown-ish: 1/f^2 power above 20 Hz, a low rumble
            spectrum /= np.maximum(f, 20.0)
        out = np.fft.irfft(spectrum, size)[:n].astype(np.float32)
    return out / (np.sqrt(np.mean(out**2)) + 1e-9)


def speech_rms(audio: np.ndarray) -> float:
    loud = audio[np.abs(audio) > 0.02 * (np.abs(audio).max() + 1e-9)]
    return float(np.sqrt(np.mean(loud**2))) if len(loud) else 1e-3


def add_noise(audio: np.ndarray, rng: np.random.Generator, snr_db: float, reference: float | None = None) -> np.ndarray:
    """Background noise ``snr_db`` below the speech level (``reference`` RMS if given)."""
    level = (reference if reference is not None else speech_rms(audio)) * 10 ** (-snr_db / 20)
    return (audio + level * noise(rng, len(audio))).astype(np.float32)


def level_ramp(n: int, rng: np.random.Generator, max_db: float = 6.0) -> np.ndarray:
    """A slow gain change across ``n`` samples (e.g. a speaker moving away)."""
    a, b = rng.uniform(-max_db, max_db, 2)
    return (10 ** (np.linspace(a, b, n, dtype=np.float32) / 20)).astype(np.float32)


def random_gain(rng: np.random.Generator) -> float:
    return float(10 ** (rng.uniform(-26, 0) / 20) / 0.7)  # espeak peaks at ~0.7


def make_clip(
    utterance: Utterance,
    rng: np.random.Generator,
    lead: tuple[float, float] = (0.05, 0.8),
    tail: tuple[float, float] = (0.05, 0.8),
    noise_prob: float = 0.7,
    snr: tuple[float, float] = (12, 40),
) -> tuple[np.ndarray, float, float]:
    """A short clip: silence around the utterance, a random level, maybe noise.

    Returns ``(audio, speech_start, speech_end)`` (seconds)."""
    pre = int(rng.uniform(*lead) * SAMPLE_RATE)
    post = int(rng.uniform(*tail) * SAMPLE_RATE)
    audio = np.zeros(pre + len(utterance.audio) + post, dtype=np.float32)
    audio[pre : pre + len(utterance.audio)] = utterance.audio
    audio *= random_gain(rng)
    if rng.random() < 0.3:
        audio *= level_ramp(len(audio), rng)
    if rng.random() < noise_prob:
        audio = add_noise(audio, rng, rng.uniform(*snr), speech_rms(audio[pre : pre + len(utterance.audio)]))
    return np.clip(audio, -1, 1), pre / SAMPLE_RATE, (pre + len(utterance.audio)) / SAMPLE_RATE


def make_long_form(
    utterances: list[Utterance],
    rng: np.random.Generator,
    pause: tuple[float, float] = (0.3, 2.0),
    lead: float = 0.5,
    noise_prob: float = 0.8,
    snr: tuple[float, float] = (15, 40),
) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """Utterances one after another with pauses, each at its own level, over one
    background noise.  Returns the audio and ``(start, end, text)`` per utterance."""
    gaps = [lead] + [rng.uniform(*pause) for _ in utterances[1:]] + [rng.uniform(*pause)]
    total = sum(int(g * SAMPLE_RATE) for g in gaps) + sum(len(u.audio) for u in utterances)
    audio = np.zeros(total, dtype=np.float32)
    segments = []
    pos = 0
    base = random_gain(rng)
    for utterance, gap in zip(utterances, gaps):
        pos += int(gap * SAMPLE_RATE)
        gain = base * 10 ** (rng.uniform(-8, 8) / 20)  # level changes between utterances
        audio[pos : pos + len(utterance.audio)] = utterance.audio * min(gain, 1.4)
        segments.append((pos / SAMPLE_RATE, (pos + len(utterance.audio)) / SAMPLE_RATE, utterance.text))
        pos += len(utterance.audio)
    if rng.random() < noise_prob:
        audio = add_noise(audio, rng, rng.uniform(*snr), base * 0.12)
    return np.clip(audio, -1, 1), segments


# ----------------------------------------------------------------------------------------
# Evaluation sets


def short_clips(count: int, seed: int, variants: tuple[str, ...] = ALL_VARIANTS) -> list[tuple[np.ndarray, str]]:
    """``count`` noisy short clips (audio, text) for evaluation."""
    rng = np.random.default_rng(seed)
    clips = []
    for _ in range(count):
        utterance = random_utterance(rng, VOICES, variants)
        audio, _, _ = make_clip(utterance, rng)
        clips.append((audio, utterance.text))
    return clips


def long_form(seconds: float, seed: int, variants: tuple[str, ...] = ALL_VARIANTS) -> tuple[np.ndarray, str, list]:
    """A ``seconds``-long recording of many utterances with pauses: (audio, text, segments)."""
    rng = np.random.default_rng(seed)
    utterances: list[Utterance] = []
    length = 0.5
    while length < seconds - 1.5:
        utterance = random_utterance(rng, VOICES, variants)
        if length + utterance.seconds + 2.0 > seconds:
            break
        utterances.append(utterance)
        length += utterance.seconds + 1.15
    audio, segments = make_long_form(utterances, rng)
    while segments[-1][1] > seconds - 0.3 and len(utterances) > 1:  # the pauses ran long: the last one does
        utterances.pop()  # not fit, and words cut off by the end of the file must not count as deletions
        audio, segments = make_long_form(utterances, rng)
    audio = audio[: int(seconds * SAMPLE_RATE)]
    if len(audio) < seconds * SAMPLE_RATE:  # pad with the noise floor's silence
        audio = np.concatenate([audio, np.zeros(int(seconds * SAMPLE_RATE) - len(audio), np.float32)])
    return audio, " ".join(u.text for u in utterances), segments


def write_wav(path: str | Path, audio: np.ndarray) -> None:
    """16-bit PCM WAV."""
    pcm = pcm16(audio)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(SAMPLE_RATE)
        f.writeframes(pcm.tobytes())


def check_tools() -> None:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (apt-get install espeak-ng sox)")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    check_tools()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for i, (audio, text) in enumerate(short_clips(args.count, args.seed)):
        write_wav(out / f"clip{i:03d}.wav", audio)
        print(f"clip{i:03d}.wav  {len(audio) / SAMPLE_RATE:5.2f}s  {text}")
