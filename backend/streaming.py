"""Live transcription's policy: which words are settled while the speaker goes on, and what audio to keep.

The whisper_streaming recipe (Macháček et al., 2023): the growing audio buffer is
transcribed again and again; a word is *confirmed* once two consecutive hypotheses agree
on it (LocalAgreement-2), and never changes after that. The rest of the latest hypothesis
is the *tentative* tail, shown differently because it may still change. Confirmed text is
the prompt of the next pass, and the buffer is cut at the end of a confirmed segment so
each pass stays short. The voice activity detector decides the rest: once the speaker has
paused (half a second without speech at the buffer's end), the hypothesis of the speech
before the pause is confirmed whole and the buffer cut there, so a sentence settles as soon
as it is said, and one unsteady word cannot hold back everything after it; audio without
new speech (and nothing left to settle) costs no model pass at all.

Torch-free: it calls a ``transcribe`` function (the engine at live priority) and a
``speech`` detector, both given to it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from backend.transcript import Transcript

SAMPLE_RATE = 16_000
#: New audio needed before the buffer is transcribed again (seconds); a pass takes longer than
#: this on a laptop CPU, so in practice the next pass starts as soon as the last one answered.
MIN_STEP = 0.5
#: Silence at the buffer's end that counts as the speaker having paused (seconds).
PAUSE = 0.5
#: The buffer is cut at a confirmed segment's end once it is longer than this (seconds).
TRIM_AFTER = 10.0
#: Hard limit on the buffer (seconds): past it, it is cut at the last confirmed word.
MAX_BUFFER = 25.0
#: Characters of confirmed text given to the model as the prompt.
PROMPT_CHARS = 200


@dataclass(frozen=True)
class TimedWord:
    text: str  # as Whisper wrote it, punctuation included
    start: float  # seconds since the session began
    end: float

    @property
    def key(self) -> str:
        """What two hypotheses must agree on: the word without case or punctuation."""
        return re.sub(r"[^\w']", "", self.text.lower())


def timed_words(transcript: Transcript, offset: float) -> list[TimedWord]:
    """The transcript's words in session time: the engine's word timings where it has them,
    else each segment's time shared out over its words by their length."""
    found: list[TimedWord] = []
    for segment in transcript.segments:
        timed = getattr(segment, "words", None)
        if timed:
            found.extend(TimedWord(w.word.strip(), offset + w.start, offset + w.end) for w in timed if w.word.strip())
            continue
        texts = segment.text.split()
        total = sum(len(t) for t in texts) or 1
        position = segment.start
        for text in texts:
            length = (segment.end - segment.start) * len(text) / total
            found.append(TimedWord(text, offset + position, offset + position + length))
            position += length
    return found


class LocalAgreement:
    """LocalAgreement-2 over word hypotheses (whisper_streaming's ``HypothesisBuffer``)."""

    def __init__(self) -> None:
        self.confirmed: list[TimedWord] = []
        self._unconfirmed: list[TimedWord] = []  # the previous hypothesis, after the confirmed words

    @property
    def tentative(self) -> list[TimedWord]:
        return list(self._unconfirmed)

    @property
    def confirmed_until(self) -> float:
        return self.confirmed[-1].end if self.confirmed else 0.0

    def insert(self, hypothesis: list[TimedWord]) -> list[TimedWord]:
        """Take the latest hypothesis over the buffer; returns the words it newly confirms."""
        new = self._after_confirmed(hypothesis)
        agreed = 0
        while agreed < min(len(new), len(self._unconfirmed)) and new[agreed].key == self._unconfirmed[agreed].key:
            agreed += 1
        newly = new[:agreed]
        self.confirmed.extend(newly)
        self._unconfirmed = new[agreed:]
        return newly

    def confirm_all(self, hypothesis: list[TimedWord]) -> list[TimedWord]:
        """The speaker paused: this hypothesis is final (there will be no next one to agree with)."""
        newly = self._after_confirmed(hypothesis)
        self.confirmed.extend(newly)
        self._unconfirmed = []
        return newly

    def settle(self, until: float) -> None:
        """Everything confirmed was said before ``until`` (the speaker paused there): word times
        estimated from segment times can run past it, and would hide the next sentence's first
        words (taken for words already confirmed) and keep the last ones out of the prompt."""
        self.confirmed = [
            w if w.end <= until else TimedWord(w.text, min(w.start, until), until) for w in self.confirmed
        ]

    def _after_confirmed(self, hypothesis: list[TimedWord]) -> list[TimedWord]:
        """The hypothesis minus what is already confirmed: words that start before the last confirmed
        one ended, and a repeat of the confirmed tail (the prompt's last words said again)."""
        new = [w for w in hypothesis if w.start > self.confirmed_until - 0.1]
        if new and self.confirmed and abs(new[0].start - self.confirmed_until) < 1.0:
            for size in range(min(len(self.confirmed), len(new), 5), 0, -1):
                tail = [w.key for w in self.confirmed[-size:]]
                if [w.key for w in new[:size]] == tail:
                    return new[size:]
        return new


@dataclass
class Update:
    """What the page shows: all confirmed text so far (only ever extended) and the tentative tail."""

    confirmed: str
    tentative: str
    seconds: float  # audio received so far
    computed: bool  # whether the model ran for this update (not in silence)


def join(words: list[TimedWord]) -> str:
    return " ".join(w.text for w in words)


#: ``transcribe(audio, prompt, language)`` → the transcript, at live priority.
Transcribe = Callable[[np.ndarray, str | None, str | None], Awaitable[Transcript]]
#: ``speech(audio)`` → ``(start, end)`` seconds of each stretch of speech in it (a voice activity detector).
Speech = Callable[[np.ndarray], Awaitable[list[tuple[float, float]]]]


@dataclass
class LiveSession:
    """One speaker's stream: audio is fed as it arrives, ``step`` runs a pass when one is due."""

    transcribe: Transcribe
    speech: Speech
    language: str | None = None
    agreement: LocalAgreement = field(default_factory=LocalAgreement)
    _buffer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    _buffer_start: float = 0.0  # session time of the buffer's first sample
    _received: int = 0  # samples since the session began
    _stepped_at: int = 0  # ``_received`` at the last pass (or skipped pass)

    def feed(self, samples: np.ndarray) -> None:
        self._buffer = np.concatenate([self._buffer, samples.astype(np.float32, copy=False)])
        self._received += len(samples)

    @property
    def seconds(self) -> float:
        return self._received / SAMPLE_RATE

    def due(self) -> bool:
        """Enough new audio for another pass."""
        return self._received - self._stepped_at >= MIN_STEP * SAMPLE_RATE

    async def step(self, final: bool = False) -> Update:
        """One pass over the buffer if it holds speech not yet settled (or ``final``: the recording
        ended); the update to show."""
        fresh = (self._received - self._stepped_at) / SAMPLE_RATE
        self._stepped_at = self._received
        length = len(self._buffer) / SAMPLE_RATE
        spans = await self.speech(self._buffer) if self._buffer.size else []
        speaking = bool(spans) and spans[-1][1] > length - fresh  # speech in the audio that just came
        pending = bool(self.agreement.tentative)
        computed = False
        if spans and (speaking or pending or final):
            spoken_until = spans[-1][1]
            paused = length - spoken_until >= PAUSE
            transcript = await self.transcribe(self._buffer, self._prompt(), self.language)
            self.language = self.language or transcript.language
            hypothesis = timed_words(transcript, self._buffer_start)
            if paused or final:
                self.agreement.confirm_all([w for w in hypothesis if w.start < self._buffer_start + spoken_until])
                self.agreement.settle(self._buffer_start + spoken_until)
                self._cut(spoken_until)
            else:
                self.agreement.insert(hypothesis)
                self._trim(transcript)
            computed = True
        elif not spans:
            self._cut(max(0.0, length - PAUSE))  # silence with nothing pending: keep only its end
        return Update(join(self.agreement.confirmed), join(self.agreement.tentative), self.seconds, computed)

    def _prompt(self) -> str | None:
        text = join([w for w in self.agreement.confirmed if w.end <= self._buffer_start + 0.01])
        return text[-PROMPT_CHARS:] or None

    def _trim(self, transcript: Transcript) -> None:
        """Cut the buffer where confirmed text ends: at the end of the last fully confirmed segment
        once it is long, at the last confirmed word when it is too long."""
        length = len(self._buffer) / SAMPLE_RATE
        confirmed_until = self.agreement.confirmed_until - self._buffer_start
        cut = 0.0
        if length > TRIM_AFTER:
            ends = [s.end for s in transcript.segments if s.end <= confirmed_until + 0.05]
            cut = ends[-1] if ends else 0.0
        if not cut and length > MAX_BUFFER:
            cut = max(0.0, confirmed_until)
        self._cut(cut)

    def _cut(self, seconds: float) -> None:
        """Drop the buffer's first ``seconds``."""
        samples = int(seconds * SAMPLE_RATE)
        if samples > 0:
            self._buffer = self._buffer[samples:]
            self._buffer_start += samples / SAMPLE_RATE
