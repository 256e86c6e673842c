"""Real multi-speaker speech with exact speaker turns, for the speaker-labelling tests and benchmark.

- pyannote-audio's sample (its sdist from PyPI, MIT): 30 s, two speakers, with its RTTM.
- Fillets NG's Dutch voices (Debian's ``fillets-ng-data-nl``, GPL-2): 1,529 acted lines by two
  voices, the small fish (``-m-`` in the line's id) and the big fish (``-v-``). Lines put one
  after the other with short pauses make conversations whose turns are known exactly.

Everything is downloaded once into ``$HUSH_TEST_DATA`` (default ``~/.cache/hush-test-data``),
checked by sha256, never committed. Without the network a test skips (under CI it fails).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

T = TypeVar("T")
SAMPLE_RATE = 16_000
PYANNOTE = ("pyannote-audio==4.0.7", "3a903dfb5ca711d134cc2522561c9158b186836f5d62e8a57c46c6648e8a8229")
FILLETS = ("fillets-ng-data-nl", "1.0.1-1.1", "afb4443fda9ab507dee578b75be857d121718a1cd6017a474f30e0eb13dc9d10")


class Unavailable(RuntimeError):
    """The data could not be downloaded here."""


def available(make: Callable[[], T]) -> T:
    """``make()``, or skip the test (fail it under CI) where its data cannot be downloaded."""
    import pytest

    try:
        return make()
    except Unavailable as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class Conversation:
    name: str
    audio: np.ndarray  # 16 kHz mono float32
    turns: tuple[Turn, ...]

    @property
    def speakers(self) -> set[str]:
        return {t.speaker for t in self.turns}

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def data_dir() -> Path:
    folder = Path(os.environ.get("HUSH_TEST_DATA") or Path.home() / ".cache" / "hush-test-data")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sha256(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def checked(path: Path, expected: str) -> Path:
    if (actual := sha256(path)) != expected:
        path.unlink()
        raise Unavailable(f"{path.name} has sha256 {actual}, expected {expected}")
    return path


def decode(path: Path) -> np.ndarray:
    from backend.audio import decode as hush_decode

    return hush_decode(path)


# -- pyannote's sample ----------------------------------------------------------------------------
def pyannote_sample() -> Conversation:
    """pyannote-audio's ``sample.wav`` (two speakers, 30 s) and the turns of its ``sample.rttm``."""
    folder = data_dir() / "pyannote-sample"
    if not (folder / "sample.rttm").is_file():
        package, digest = PYANNOTE
        with tempfile.TemporaryDirectory() as temporary:
            result = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary=:all:", "--quiet",
                 "--dest", temporary, package],
                capture_output=True, text=True,
            )  # fmt: skip
            found = sorted(Path(temporary).glob("pyannote_audio-*.tar.gz"))
            if result.returncode or not found:
                raise Unavailable(f"pip could not download {package}: {result.stderr.strip()[-300:]}")
            with tarfile.open(checked(found[0], digest)) as archive:
                part = folder.with_name(folder.name + ".partial")
                part.mkdir(exist_ok=True)
                for member in archive.getmembers():
                    if "/src/pyannote/audio/sample/sample." in member.name and member.isfile():
                        with archive.extractfile(member) as source, open(part / Path(member.name).name, "wb") as out:
                            shutil.copyfileobj(source, out)
                part.rename(folder)
    turns = []
    for line in (folder / "sample.rttm").read_text().splitlines():
        fields = line.split()
        start, length = float(fields[3]), float(fields[4])
        turns.append(Turn(start, start + length, fields[7]))
    return Conversation("pyannote sample", decode(folder / "sample.wav"), tuple(turns))


# -- Fillets NG's two fish --------------------------------------------------------------------------
def fillets_folder() -> Path:
    """The unpacked ``fillets-ng-data-nl`` package's sound folder (downloaded with ``apt-get download``)."""
    folder = data_dir() / "fillets-nl"
    if not folder.is_dir():
        name, version, digest = FILLETS
        with tempfile.TemporaryDirectory() as temporary:
            result = subprocess.run(
                ["apt-get", "download", f"{name}={version}"], cwd=temporary, capture_output=True, text=True
            )
            found = sorted(Path(temporary).glob(f"{name}_*.deb"))
            if result.returncode or not found:
                raise Unavailable(f"apt-get could not download {name}: {result.stderr.strip()[-300:]}")
            part = folder.with_name(folder.name + ".partial")
            shutil.rmtree(part, ignore_errors=True)
            subprocess.run(["dpkg-deb", "-x", str(checked(found[0], digest)), str(part)], check=True)
            part.rename(folder)
    return folder / "usr" / "share" / "games" / "fillets-ng" / "sound"


def fillets_lines(voice: str) -> list[Path]:
    """Every Dutch line of one fish (``m`` small, ``v`` big), in a fixed order."""
    return sorted(p for p in fillets_folder().glob("*/nl/*.ogg") if f"-{voice}-" in p.stem)


def conversation(
    name: str, voices: dict[str, list[np.ndarray]], order: list[str], pause: float = 0.4, seed: int = 0
) -> Conversation:
    """Lines of the ``voices`` said in ``order`` (a speaker's lines taken in turn), ``pause`` s apart (±40 %)."""
    rng = np.random.default_rng(seed)
    pieces, turns, cursor, taken = [], [], 0.0, dict.fromkeys(voices, 0)
    for speaker in order:
        line = voices[speaker][taken[speaker] % len(voices[speaker])]
        taken[speaker] += 1
        gap = np.zeros(int(pause * rng.uniform(0.6, 1.4) * SAMPLE_RATE), np.float32)
        pieces += [gap, line]
        cursor += len(gap) / SAMPLE_RATE
        turns.append(Turn(round(cursor, 3), round(cursor + len(line) / SAMPLE_RATE, 3), speaker))
        cursor += len(line) / SAMPLE_RATE
    return Conversation(name, np.concatenate(pieces).astype(np.float32), tuple(turns))


def fish_conversation(minutes: float, seed: int, extra: dict[str, list[np.ndarray]] | None = None) -> Conversation:
    """A conversation of the two fish (and any ``extra`` voices) of about ``minutes``: who speaks next is
    random (a speaker often says two lines in a row), each fish's lines drawn from a shuffled list of
    theirs (lines without sound left out)."""
    rng = np.random.default_rng(seed)
    queues = {f"fish-{voice}": list(rng.permutation(fillets_lines(voice))) for voice in ("m", "v")}
    voices: dict[str, list[np.ndarray]] = {name: [] for name in queues} | dict(extra or {})
    names = list(voices)
    order, total, said = [], 0.0, dict.fromkeys(names, 0)
    while total < minutes * 60:
        speaker = names[rng.integers(len(names))] if not order or rng.random() < 0.7 else order[-1]
        if speaker in queues:
            while len(voices[speaker]) <= said[speaker] and queues[speaker]:  # then lines come round again
                line = fish_line(Path(queues[speaker].pop()))
                if line is not None:
                    voices[speaker].append(line)
        line = voices[speaker][said[speaker] % len(voices[speaker])]
        said[speaker] += 1
        order.append(speaker)
        total += len(line) / SAMPLE_RATE + 0.4
    return conversation(f"{'+'.join(names)} {minutes:g} min #{seed}", voices, order, seed=seed)


def fish_line(path: Path) -> np.ndarray | None:
    """One fish's line without the silence around it, or ``None`` for a file without sound."""
    from backend.audio import AudioError

    try:
        return trim(decode(path))
    except AudioError:
        return None


def trim(audio: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """A line without the silence around it (so its turn is its speech)."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    return audio[loud[0] : loud[-1] + 1] if loud.size else audio


def sample_voice_lines(speaker: str = "speaker91", longest: float = 3.0) -> list[np.ndarray]:
    """The pyannote sample's ``speaker`` where nobody else speaks, in lines of at most ``longest`` s: a third
    real voice for the fish's conversations."""
    sample = pyannote_sample()
    lines = []
    for turn in (t for t in sample.turns if t.speaker == speaker):
        clean = [(turn.start, turn.end)]
        for other in (t for t in sample.turns if t.speaker != speaker):
            clean = [
                piece
                for a, b in clean
                for piece in ((a, min(b, other.start)), (max(a, other.end), b))
                if piece[1] - piece[0] > 0
            ]
        for a, b in clean:
            pieces = max(1, round((b - a) / longest))
            for i in range(pieces):
                start, end = a + (b - a) * i / pieces, a + (b - a) * (i + 1) / pieces
                if end - start >= 1.0:
                    lines.append(sample.audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)])
    return lines
