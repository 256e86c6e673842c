"""Live transcription's policy: which words are settled while the speaker goes on, and what audio to keep.

The whisper_streaming recipe (Macháček et al., 2023): the growing audio buffer is
transcribed again and again; a word is *confirmed* once two consecutive hypotheses agree
on it (LocalAgreement-2; not in the buffer's last half second, where a word may be cut off),
and never changes after that. The rest of the latest hypothesis
is the *tentative* tail, shown differently because it may still change. Confirmed text is
the prompt of the next pass, and the buffer is cut at the end of a confirmed segment so
each pass stays short. The voice activity detector decides the rest: once the speaker has
paused (half a second without speech at the buffer's end), the hypothesis of the speech
before the pause is confirmed whole and the buffer cut there, so a sentence settles as soon
as it is said, and one unsteady word cannot hold back everything after it; audio without
new speech (and nothing left to settle) costs no model pass at all. A pass whose text loops,
or holds more words than the buffer's speech could (Whisper reciting its prompt), is no
hypothesis: the last one stands.

Torch-free: a session calls a ``transcribe`` function and a ``speech`` detector given to it;
``live_session`` gives it the model in use, with the live recipe (``live_options``), at live priority.
"""

from __future__ import annotations

import asyncio
import difflib
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

import numpy as np

from backend.audio import SAMPLE_RATE
from backend.engine.manager import ModelManager
from backend.transcript import (
    COMPRESSION_RATIO,
    Options,
    Priority,
    Request,
    Segment,
    Task,
    Transcript,
    compression_ratio,
)

#: A live pass decodes at most this many tokens per second of audio, plus the leeway: fast
#: speech with its timestamps needs about 6; a pass caught in a repetition loop would otherwise
#: run to the model's 448 while the speaker waits.
TOKENS_PER_SECOND = 10
TOKENS_LEEWAY = 16
#: Seconds of speech a pass must have heard before the language it detected is kept for the session
#: (until then every pass detects it again): on less, Whisper's detection is a guess.
LANGUAGE_SPEECH = 2.0
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
#: Words two hypotheses must say alike, after at most ``DISPUTED_WORDS`` said differently,
#: to confirm them with the disputed ones before them once agreement is stuck (``LocalAgreement.insert``).
ANCHOR_WORDS = 3
DISPUTED_WORDS = 6
#: Passes in a row that confirm nothing before the anchor rule applies.
STUCK_PASSES = 2
#: Words ending this close to the buffer's end (seconds) are not confirmed by agreement: a word
#: cut off there ("munition" for musician) is often misheard alike by two passes 0.5 s apart.
EDGE = 0.5
#: Confirmed words before those in the buffer that a hypothesis may still say again (see ``repeated``).
REPEAT_BEFORE = 8
#: More words than this per second of speech in the buffer (plus ``WORDS_LEEWAY``) nobody says:
#: a hypothesis with more is Whisper reciting its prompt (``implausible``). Fast speech is 4 a second.
WORDS_PER_SECOND = 6.0
WORDS_LEEWAY = 3
#: A segment of the last pass beginning this little before a cut (seconds) is still kept as the next
#: pass's draft: a cut at a segment's end falls where the next one begins, up to rounding.
CUT_SLACK = 0.02


@dataclass(frozen=True)
class TimedWord:
    text: str  # as Whisper wrote it, punctuation included
    start: float  # seconds since the session began (estimated where the engine gave no word timings)
    end: float

    @property
    def key(self) -> str:
        """What two hypotheses must agree on: the word without case or punctuation."""
        return re.sub(r"[^\w']", "", self.text.lower())


def segment_words(segment: Segment, offset: float) -> list[TimedWord]:
    """The segment's words in session time: the engine's word timings where it has them, else
    the segment's time shared out over its words by their length (an estimate, used to cut the
    buffer and to measure lag, never to decide which words are new)."""
    timed = getattr(segment, "words", None)
    if timed:
        return [TimedWord(w.word.strip(), offset + w.start, offset + w.end) for w in timed if w.word.strip()]
    texts = segment.text.split()
    total = sum(len(t) for t in texts) or 1
    found, position = [], segment.start
    for text in texts:
        length = (segment.end - segment.start) * len(text) / total
        found.append(TimedWord(text, offset + position, offset + position + length))
        position += length
    return found


def timed_words(segments: list[Segment], offset: float) -> list[TimedWord]:
    return [word for segment in segments for word in segment_words(segment, offset)]


def repeated(said: list[str], heard: list[str], free: int = 0) -> tuple[int, list[int]]:
    """How a hypothesis (``heard``, word keys) begins by saying confirmed words again: ``said`` is
    the confirmed tail whose audio is in the buffer, after ``free`` words before it that the buffer
    may still hold too (a cut at a segment's time is not exact). Returns ``(start, covered)``:
    the repeat begins at ``said[start]`` (``start <= free``), and ``covered[k]`` is how many words
    of ``said[start:]`` the hypothesis's first ``k`` words cover, for ``k`` up to the end of the
    repeat. The repeat is the one closest in word edit distance (then: most words equal, then
    length nearest the words said), so a word Whisper says differently, adds or leaves out this
    time shifts nothing after it."""
    n, m = len(said), len(heard)
    # cost[i][k]: (edits, -equal words) to turn said[:i] into heard[:k]; said[:free] may be skipped
    cost = [[(0, 0)] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = (max(0, i - free), 0)
    for k in range(1, m + 1):
        cost[0][k] = (k, 0)
    for i in range(1, n + 1):
        for k in range(1, m + 1):
            cost[i][k] = min(_steps(cost, said, heard, i, k))
    end = min(range(m + 1), key=lambda k: (*cost[n][k], abs(k - (n - free)), -k))
    rows = [0] * (end + 1)
    i, k = n, end
    while k > 0:
        rows[k] = max(rows[k], i)
        diagonal, deletion, _ = _steps(cost, said, heard, i, k)
        if i > 0 and cost[i][k] == diagonal:
            i, k = i - 1, k - 1
        elif i > 0 and cost[i][k] == deletion:
            i -= 1
        else:
            k -= 1
    start = min(i, free)
    return start, [max(0, row - start) for row in rows]


def _steps(cost: list[list[tuple[int, int]]], said: list[str], heard: list[str], i: int, k: int) -> list:
    """The three ways to reach ``cost[i][k]``: said[i-1] as heard[k-1], said[i-1] left out, heard[k-1] put in."""
    if i == 0 or k == 0:
        return [(1 << 30, 0), (1 << 30, 0), (1 << 30, 0)]
    same = said[i - 1] == heard[k - 1]
    return [
        (cost[i - 1][k - 1][0] + (not same), cost[i - 1][k - 1][1] - same),
        (cost[i - 1][k][0] + 1, cost[i - 1][k][1]),
        (cost[i][k - 1][0] + 1, cost[i][k - 1][1]),
    ]


class LocalAgreement:
    """LocalAgreement-2 over word hypotheses (whisper_streaming's ``HypothesisBuffer``), matched by
    text: which words of a hypothesis are already confirmed is read from what it says, not from
    word times (estimated ones drift by a second between passes, and would drop or repeat words)."""

    def __init__(self) -> None:
        self.confirmed: list[TimedWord] = []
        #: How many of the last confirmed words are still in the audio buffer (the next hypothesis says them again).
        self.heard = 0
        self._unconfirmed: list[TimedWord] = []  # the previous hypothesis, after the confirmed words
        self._covered: list[int] = [0]  # ``repeated`` for the last hypothesis
        self._heard_before = 0  # ``heard`` before the last hypothesis confirmed words
        self._stuck = 0  # passes in a row that confirmed nothing

    @property
    def tentative(self) -> list[TimedWord]:
        return list(self._unconfirmed)

    @property
    def settled(self) -> list[TimedWord]:
        """Confirmed words no longer in the buffer: the prompt of the next pass."""
        return self.confirmed[: len(self.confirmed) - self.heard]

    @property
    def confirmed_in_last(self) -> int:
        """How many of the last hypothesis's first words are confirmed now."""
        return len(self._covered) - 1 + self.heard - self._heard_before

    def insert(self, hypothesis: list[TimedWord], until: float = float("inf")) -> list[TimedWord]:
        """Take the latest hypothesis over the buffer; returns the words it newly confirms: those
        on which it agrees with the previous one; or, when passes in a row have agreed on none,
        up to the end of a run of words both say after a few they word differently (one unsteady
        word must not hold back the sentence; the newer hypothesis, which heard more, gives the
        disputed words). Sooner, this would confirm what one more pass would have corrected.
        Either way only up to the last word that ends by ``until`` (session time): the buffer's
        end may cut off the words after it."""
        new = self._after_confirmed(hypothesis)
        old = self._unconfirmed
        agreed = 0
        while agreed < min(len(new), len(old)) and new[agreed].key == old[agreed].key:
            agreed += 1
        self._stuck = 0 if agreed or not old else self._stuck + 1
        if self._stuck >= STUCK_PASSES:
            anchors = difflib.SequenceMatcher(None, [w.key for w in old], [w.key for w in new], autojunk=False)
            for block in anchors.get_matching_blocks():
                if block.size >= ANCHOR_WORDS and block.a <= DISPUTED_WORDS and block.b <= DISPUTED_WORDS:
                    agreed, self._stuck = block.b + block.size, 0
                    break
        while agreed and new[agreed - 1].end > until:
            agreed -= 1
        return self._confirm(new[:agreed], new[agreed:])

    def confirm_all(self, hypothesis: list[TimedWord]) -> list[TimedWord]:
        """The speaker paused: this hypothesis is final (there will be no next one to agree with)."""
        return self._confirm(self._after_confirmed(hypothesis), [])

    def confirm_tentative(self) -> list[TimedWord]:
        """The speaker paused and the last pass gave no hypothesis: the tentative tail is final."""
        self._covered = [0]
        return self._confirm(self.tentative, [])

    def cut(self, words: int | None = None) -> None:
        """The buffer lost the audio of the last hypothesis's first ``words`` words (all of them
        confirmed; ``None``: all the audio of confirmed words)."""
        if words is None:
            self.heard = 0
            return
        repeat = len(self._covered) - 1
        if words <= repeat:
            gone = self._covered[words]
        else:
            gone = self._heard_before + min(words - repeat, self.heard - self._heard_before)
        self.heard = max(0, self.heard - gone)
        self._heard_before = 0
        self._covered = [0]

    def _confirm(self, newly: list[TimedWord], rest: list[TimedWord]) -> list[TimedWord]:
        self._heard_before = self.heard
        self.confirmed.extend(newly)
        self.heard += len(newly)
        self._unconfirmed = rest
        return newly

    def _after_confirmed(self, hypothesis: list[TimedWord]) -> list[TimedWord]:
        """The hypothesis minus its repeat of confirmed words: the ones still in the buffer, and
        any of the few before them it says again (a cut left their end in the buffer, or the
        prompt's last words came back)."""
        free = min(REPEAT_BEFORE, len(self.confirmed) - self.heard)
        window = [w.key for w in self.confirmed[len(self.confirmed) - self.heard - free :]]
        start, self._covered = repeated(window, [w.key for w in hypothesis], free)
        self.heard = len(window) - start
        return hypothesis[len(self._covered) - 1 :]


@dataclass
class Update:
    """What the page shows: all confirmed text so far (only ever extended) and the tentative tail."""

    confirmed: str
    tentative: str
    seconds: float  # audio received so far
    computed: bool  # whether the model ran for this update (not in silence)


def looping(text: str) -> bool:
    """Whether Whisper got caught repeating itself: its text compresses more than speech does
    (openai-whisper's test; a text under 40 bytes is too short to tell)."""
    return len(text.encode()) > 40 and compression_ratio(text) > COMPRESSION_RATIO


def implausible(text: str, speech_seconds: float) -> bool:
    """Whether a pass says more words than fit in ``speech_seconds`` of speech: over a buffer that
    holds only the first word or two of a new sentence, Whisper sometimes recites its prompt (the
    sentences just confirmed), and two passes in a row agreeing on that would confirm it again."""
    return len(text.split()) > WORDS_PER_SECOND * speech_seconds + WORDS_LEEWAY


def join(words: list[TimedWord]) -> str:
    return " ".join(w.text for w in words)


#: ``transcribe(audio, prompt, language, draft)`` → the transcript, at live priority; ``draft`` is
#: what the previous pass heard in the same buffer (segment times from its start), for the decoder to check.
Transcribe = Callable[[np.ndarray, str | None, str | None, tuple[Segment, ...]], Awaitable[Transcript]]
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
    _heard: tuple[Segment, ...] = ()  # the last usable pass's segments, times from the buffer's start

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
            transcript = await self.transcribe(self._buffer, self._prompt(), self.language, self._heard)
            speech_seconds = sum(end - start for start, end in spans)
            if self.language is None and speech_seconds >= LANGUAGE_SPEECH:
                self.language = transcript.language
            unusable = looping(transcript.text) or implausible(transcript.text, speech_seconds)  # the last one stands
            if not unusable:
                self._heard = tuple(transcript.segments)
            if paused or final:  # segments that begin in the silence after the speech are made up
                spoken = [s for s in transcript.segments if s.start < spoken_until]
                if unusable:
                    self.agreement.confirm_tentative()
                else:
                    self.agreement.confirm_all(timed_words(spoken, self._buffer_start))
                self.agreement.cut()
                self._cut(spoken_until)
            elif not unusable:
                words = [segment_words(s, self._buffer_start) for s in transcript.segments]
                until = self._buffer_start + length - EDGE  # the words there are heard only in part
                self.agreement.insert([word for segment in words for word in segment], until)
                self._trim(transcript.segments, words)
            computed = True
        elif not spans:
            self.agreement.cut()
            self._cut(max(0.0, length - PAUSE))  # silence with nothing pending: keep only its end
        return Update(join(self.agreement.confirmed), join(self.agreement.tentative), self.seconds, computed)

    def _prompt(self) -> str | None:
        return join(self.agreement.settled)[-PROMPT_CHARS:] or None

    def _trim(self, segments: list[Segment], words: list[list[TimedWord]]) -> None:
        """Cut the buffer where confirmed text ends: at the end of the last fully confirmed segment
        once it is long, after the last confirmed word (its estimated end) when it is too long.
        ``words``: each segment's words, as the agreement was given them."""
        length = len(self._buffer) / SAMPLE_RATE
        confirmed = self.agreement.confirmed_in_last
        cut, gone, count = 0.0, 0, 0
        if length > TRIM_AFTER:
            for segment, said in zip(segments, words, strict=True):
                count += len(said)
                if count > confirmed:
                    break
                cut, gone = segment.end, count
        if not cut and length > MAX_BUFFER and confirmed:
            last = [word for segment in words for word in segment][confirmed - 1]
            cut, gone = last.end - self._buffer_start, confirmed
        if cut > 0:
            self.agreement.cut(gone)
            self._cut(cut)

    def _cut(self, seconds: float) -> None:
        """Drop the buffer's first ``seconds``."""
        samples = int(seconds * SAMPLE_RATE)
        if samples > 0:
            gone = samples / SAMPLE_RATE
            self._buffer = self._buffer[samples:]
            self._buffer_start += gone
            kept = [s for s in self._heard if s.start >= gone - CUT_SLACK]
            self._heard = tuple(replace(s, start=max(0.0, s.start - gone), end=s.end - gone) for s in kept)


def live_options(
    seconds: float, prompt: str | None, language: str | None, task: Task, draft: tuple[Segment, ...]
) -> Options:
    """How a live pass over ``seconds`` of buffer transcribes: greedy, without word timings, only the
    buffer's part of the window encoded (a pass must be short, and segment times are enough to cut the
    buffer; the final pass places every word), prompted with the confirmed text, the previous pass's
    text as the decoder's draft (most of it is heard again), and a token limit against loops."""
    return Options(
        language=language,
        task=task,
        prompt=prompt,
        temperature=0.0,
        words=False,
        max_tokens=int(TOKENS_LEEWAY + TOKENS_PER_SECOND * seconds),
        short_context=True,
        draft=draft,
    )


def live_session(
    models: ModelManager, language: str | None, task: Task, gone: threading.Event | None = None
) -> LiveSession:
    """A live session on the model in use: its passes and its voice activity detector run on the
    inference thread (``Engine.submit``, ``Engine.speech``) at live priority, ahead of file jobs.
    ``gone``, once set, stops a pass under way at its next decoding step (the page went)."""

    async def transcribe(audio: np.ndarray, prompt: str | None, spoken: str | None, draft: tuple[Segment, ...]):
        options = live_options(len(audio) / SAMPLE_RATE, prompt, spoken, task, draft)
        request = Request(audio=audio, options=options, priority=Priority.LIVE, cancel=gone)
        return await asyncio.wrap_future(models.engine().submit(request))

    async def speech(audio: np.ndarray) -> list[tuple[float, float]]:
        return await asyncio.wrap_future(models.engine().speech(audio))

    return LiveSession(transcribe, speech, language=language)
