"""What a transcription is asked for and what it gives back: the types the web layer shares with the engine.

Nothing here imports torch or transformers, so the store, the job queue and the routes
load (and the server answers) while the engine is still importing them.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

if TYPE_CHECKING:
    import threading

    import numpy as np

Task = Literal["transcribe", "translate"]
TASKS: tuple[str, ...] = get_args(Task)


class Progress(Protocol):
    """Hears the fraction of the audio done (0..1) as the windows go by; and where the engine has
    more to say than a fraction (a remote engine: how much audio is sent, how much is back), a sentence."""

    def __call__(self, done: float, stage: str | None = None) -> None: ...


#: OpenAI's threshold: a text that compresses more than this repeats itself (a decoding loop).
COMPRESSION_RATIO = 2.4


def compression_ratio(text: str) -> float:
    """How well ``text`` compresses (gzip's ratio): above ``COMPRESSION_RATIO`` it repeats itself."""
    data = text.encode()
    return len(data) / len(zlib.compress(data)) if data else 0.0


#: What each option may hold when it is read back from the history.
OPTION_TYPES: dict[str, type | tuple[type, ...]] = {
    "language": (str, type(None)),
    "task": str,
    "prompt": (str, type(None)),
    "temperature": (int, float, type(None)),
    "beam_size": int,
    "words": bool,
    "max_tokens": (int, type(None)),
    "short_context": bool,
    "speakers": (str, int),
    "min_speakers": int,
    "max_speakers": int,
}
#: ``Options.speakers``: no labels, or as many speakers as the voices show (else a number).
SPEAKERS_OFF, SPEAKERS_AUTO = "off", "auto"
#: The most speakers Hush tells apart in one recording.
MOST_SPEAKERS = 20


def speakers_problem(speakers: object, least: int, most: int) -> str | None:
    """Why ``speakers`` is no ``Options.speakers`` value (``None``: it is one)."""
    if speakers in (SPEAKERS_OFF, SPEAKERS_AUTO):
        return None
    if isinstance(speakers, int) and not isinstance(speakers, bool) and least <= speakers <= most:
        return None
    return f"speakers must be off, auto or a number from {least} to {most}."


class InvalidOptions(ValueError):
    """An option the loaded model cannot honour (unknown language, translate on an English-only model)."""


class Cancelled(Exception):
    """The job was cancelled (or Hush is shutting down); a running one stops within a decoding step."""


class Failed(RuntimeError):
    """A transcription that could not be done, for a reason its message tells the user in a sentence
    (e.g. every server refused it); kept as the job's error as it is."""


@dataclass(frozen=True, kw_only=True)
class Options:
    """How to transcribe: ``None`` lets the model decide (language) or uses Whisper's fallback (temperature)."""

    language: str | None = None
    task: Task = "transcribe"
    prompt: str | None = None
    temperature: float | None = None
    beam_size: int = 1
    #: Place every word in time (where the checkpoint has alignment heads): a little slower.
    words: bool = True
    #: Most tokens to decode (one window only; ``None``: the model's limit). Live passes set it
    #: from the audio's length, so a pass caught in a repetition loop ends in time.
    max_tokens: int | None = None
    #: Encode only the audio's length of the window (plus 2 s, at least 10 s; ``encoder.py``)
    #: instead of all 30 s: live passes, which must be quick. One window only, no word timings.
    short_context: bool = False
    #: What a previous pass over the same audio heard (times from its start): decoded as a guess
    #: the model checks in one call, then goes on from where it parts from it. Live passes.
    draft: tuple[Segment, ...] = ()
    #: Label who speaks when: ``"off"``, ``"auto"`` (the count from the voices, between
    #: ``min_speakers`` and ``max_speakers``) or the number of speakers.
    speakers: int | str = SPEAKERS_OFF
    min_speakers: int = 1
    max_speakers: int = 8

    @property
    def labels_speakers(self) -> bool:
        return self.speakers != SPEAKERS_OFF

    @classmethod
    def from_dict(cls, values: object) -> Options:
        """Options as stored by any version of Hush: unknown keys are ignored, missing or broken ones default."""
        known = {
            name: value
            for name, value in known_fields(cls, values).items()
            if name in OPTION_TYPES
            and isinstance(value, OPTION_TYPES[name])
            and (OPTION_TYPES[name] is bool or not isinstance(value, bool))
        }
        if known.get("task", "transcribe") not in TASKS:
            del known["task"]
        if speakers_problem(known.get("speakers", SPEAKERS_OFF), 1, MOST_SPEAKERS):
            del known["speakers"]
        for bound in ("min_speakers", "max_speakers"):
            if not 1 <= known.get(bound, 1) <= MOST_SPEAKERS:
                del known[bound]
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        """What the history stores (a live pass's draft is not kept)."""
        return {name: getattr(self, name) for name in OPTION_TYPES}


class Priority(Enum):
    """Live work (live passes, a person's correction) goes before queued file jobs."""

    LIVE = "live"
    FILE = "file"


@dataclass(frozen=True, kw_only=True)
class Request:
    """One transcription as asked, from the job queue or the live socket down to the decoding loop:
    the audio (16 kHz mono float32), how to transcribe it, who hears it as it goes, and how it stops."""

    audio: np.ndarray
    options: Options = field(default_factory=Options)
    #: Hears the fraction of the audio done (0..1) as the windows go by.
    on_progress: Progress | None = None
    #: Hears each window's (or batch's) finished segments, without their words, as they are decoded.
    on_segments: Callable[[list[Segment]], None] | None = None
    #: Hears all that is done after each batch (long audio): saved, so a restart goes on from there.
    on_partial: Callable[[Partial], None] | None = None
    #: What an earlier run of the same job finished: decoding goes on after it.
    resume: Partial | None = None
    #: Set, it drops a queued request and stops a running one at its next decoding step.
    cancel: threading.Event | None = None
    priority: Priority = Priority.FILE
    #: Someone reads the segments as they come (a streamed answer): the first text is worth a little
    #: throughput, so long audio's first batch is one chunk.
    stream: bool = False


@dataclass(frozen=True)
class Word:
    """One word placed in time; ``probability`` is how sure the model was of its tokens (0..1)."""

    start: float
    end: float
    word: str
    probability: float

    @classmethod
    def from_dict(cls, values: object) -> Word | None:
        """A stored word, or ``None`` if it lacks its times or text."""
        known = known_fields(cls, values)
        try:
            probability = float(known.get("probability", 1.0))
            return cls(float(known["start"]), float(known["end"]), str(known["word"]), probability)
        except (KeyError, TypeError, ValueError):
            return None

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "word": self.word, "probability": self.probability}


@dataclass(frozen=True)
class Segment:
    """A stretch of speech. ``words`` is empty where the model cannot place words (no alignment
    heads, a translation) or a correction's words could not be placed again; ``original`` is the
    model's text once a person has corrected ``text``."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    original: str | None = None
    #: Who speaks it (1, 2, … by order of first appearance) where speakers were labelled; its
    #: words are that speaker's too (a segment is split where the speaker changes).
    speaker: int | None = None
    #: The labeller's speaker, where a person gave the segment to another one (undone by moving it back).
    original_speaker: int | None = None

    @classmethod
    def from_dict(cls, values: object) -> Segment | None:
        """A stored segment, or ``None`` if it lacks its times or text; broken words are left out."""
        known = known_fields(cls, values)
        try:
            start, end, text = float(known["start"]), float(known["end"]), str(known["text"])
        except (KeyError, TypeError, ValueError):
            return None
        speaker = known.get("speaker")
        speaker = speaker if isinstance(speaker, int) and not isinstance(speaker, bool) and speaker > 0 else None
        return cls(start, end, text, words_from(known.get("words")), speaker=speaker)

    def to_dict(self) -> dict[str, Any]:
        """What the history stores: the model's segment (a correction is kept apart from it)."""
        stored = {"start": self.start, "end": self.end, "text": self.text, "words": [w.to_dict() for w in self.words]}
        return stored if self.speaker is None else {**stored, "speaker": self.speaker}


@dataclass(frozen=True)
class Correction:
    """A person's text for one segment, and its words placed again (empty when they could not be)."""

    text: str
    words: tuple[Word, ...] = ()

    @classmethod
    def from_dict(cls, values: object) -> Correction | None:
        """A stored correction, or ``None`` if it has no text."""
        known = known_fields(cls, values)
        text = known.get("text")
        return cls(text, words_from(known.get("words"))) if isinstance(text, str) and text else None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "words": [w.to_dict() for w in self.words]}


def words_from(values: object) -> tuple[Word, ...]:
    """Stored words, the unreadable ones left out (a missing or broken list is no words)."""
    if not isinstance(values, list):
        return ()
    return tuple(word for word in map(Word.from_dict, values) if word is not None)


@dataclass
class Transcript:
    text: str
    language: str | None
    duration: float
    segments: list[Segment]
    model: str
    timings: dict[str, float] = field(default_factory=dict)
    #: The names of the speakers a person named (by speaker number); the others are "Speaker N".
    speakers: dict[int, str] = field(default_factory=dict)
    #: Speakers a person merged into another (undone by unmerging them).
    merged: dict[int, int] = field(default_factory=dict)
    #: Who transcribed it where that is not this process: servers, a cluster's replicas (in the order used).
    served_by: tuple[str, ...] = ()

    @property
    def labelled(self) -> bool:
        """Whether its segments carry speakers."""
        return any(segment.speaker is not None for segment in self.segments)

    def speaker_name(self, speaker: int | None) -> str | None:
        return None if speaker is None else self.speakers.get(speaker) or f"Speaker {speaker}"

    def speaker_names(self) -> dict[int, str]:
        """Every speaker that speaks in it, by order of first appearance, with its name."""
        found = dict.fromkeys(s.speaker for s in self.segments if s.speaker is not None)
        return {speaker: self.speaker_name(speaker) for speaker in found}

    def relabelled(self, edits: SpeakerEdits) -> Transcript:
        """This transcript with a person's changes to its speakers: segments moved to another speaker,
        speakers merged into another, names given."""
        if edits.empty:
            return self
        segments = [
            replace(
                s,
                speaker=edits.speaker_of(i, s.speaker),
                original_speaker=s.speaker if i in edits.moved and edits.moved[i] != s.speaker else None,
            )
            if s.speaker is not None
            else s
            for i, s in enumerate(self.segments)
        ]
        names = {**self.speakers, **edits.names}
        return replace(self, segments=segments, speakers=names, merged={**self.merged, **edits.merged})

    def corrected(self, corrections: dict[int, Correction]) -> Transcript:
        """This transcript as a person corrected it: each corrected segment's text and words
        replaced (the model's text kept as ``original``), and the full text rebuilt from them."""
        if not corrections:
            return self
        segments = list(self.segments)
        for index, correction in corrections.items():
            if 0 <= index < len(segments):
                model = segments[index]
                segments[index] = replace(model, text=correction.text, words=correction.words, original=model.text)
        return replace(self, text=retext(self.text, self.segments, segments), segments=segments)


@dataclass(frozen=True)
class SpeakerEdits:
    """A person's changes to the labelled speakers, kept beside the labeller's (each can be undone):
    ``names`` by speaker, ``merged`` speakers (into another), ``moved`` segments (by index, to a speaker)."""

    names: dict[int, str] = field(default_factory=dict)
    merged: dict[int, int] = field(default_factory=dict)
    moved: dict[int, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.names or self.merged or self.moved)

    def speaker_of(self, index: int, labelled: int | None) -> int | None:
        """Who speaks segment ``index`` (which the labeller gave to ``labelled``) after these edits."""
        speaker = self.moved.get(index, labelled)
        seen = set()
        while speaker in self.merged and speaker not in seen:  # a chain of merges; never a loop
            seen.add(speaker)
            speaker = self.merged[speaker]
        return speaker

    @classmethod
    def from_dict(cls, values: object) -> SpeakerEdits:
        """Stored edits; unreadable entries are left out."""
        known = values if isinstance(values, dict) else {}

        def numbers(key: str, kind: type) -> dict[int, Any]:
            entries = known.get(key)
            if not isinstance(entries, dict):
                return {}
            return {
                int(k): v
                for k, v in entries.items()
                if isinstance(k, str) and k.isdigit() and isinstance(v, kind) and not isinstance(v, bool)
            }

        names = {k: v for k, v in numbers("names", str).items() if v.strip()}
        return cls(names, numbers("merged", int), numbers("moved", int))

    def to_dict(self) -> dict[str, Any]:
        return {key: {str(k): v for k, v in getattr(self, key).items()} for key in ("names", "merged", "moved")}


def retext(text: str, before: list[Segment], after: list[Segment]) -> str:
    """``text`` with each segment's text swapped for its new one, keeping what lies between the
    segments as the model wrote it (a space, or nothing in languages written without spaces)."""
    pieces, cursor = [], 0
    for old, new in zip(before, after, strict=True):
        found = text.find(old.text, cursor)
        if found < 0:  # a text that is not its segments joined: rebuild it plainly
            return " ".join(segment.text for segment in after)
        pieces += [text[cursor:found], new.text]
        cursor = found + len(old.text)
    return "".join([*pieces, text[cursor:]])


def known_fields(cls: type, values: object) -> dict[str, Any]:
    """The entries of ``values`` that the dataclass ``cls`` has fields for (nothing if it is not a dict)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in values.items() if k in names} if isinstance(values, dict) else {}


# -- what a long transcription has finished so far ---------------------------------------------
# Saved as it goes, so that after a crash or a quit the job goes on from its last finished chunk
# instead of starting again: the store saves it and the job queue hands it back to the engine.
class Tokens(Protocol):
    """A decoded segment: its text and the tokens it was decoded from."""

    text: str
    tokens: list[int]


@dataclass(frozen=True)
class Partial:
    """The segments of the recording's first ``until`` seconds, their tokens, the language, and the
    model that decoded them (another model starts over rather than mix two models' text)."""

    model: str
    language: str | None
    until: float
    segments: tuple[Segment, ...]
    tokens: tuple[tuple[int, ...], ...]

    @classmethod
    def of(
        cls, model: str, language: str | None, until: float, decoded: Sequence[Tokens], segments: Sequence[Segment]
    ) -> Partial:
        return cls(model, language, round(until, 3), tuple(segments), tuple(tuple(d.tokens) for d in decoded))

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "language": self.language,
            "until": self.until,
            "segments": [s.to_dict() for s in self.segments],
            "tokens": [list(t) for t in self.tokens],
        }

    @classmethod
    def from_dict(cls, values: object) -> Partial | None:
        """A saved partial transcript, or ``None`` where it is missing or unreadable (the job then starts over)."""
        if not isinstance(values, dict):
            return None
        model, language, until = values.get("model"), values.get("language"), values.get("until")
        raw, tokens = values.get("segments"), values.get("tokens")
        if not (isinstance(raw, list) and isinstance(tokens, list) and len(raw) == len(tokens)):
            return None
        segments = [Segment.from_dict(s) for s in raw]
        readable = (
            isinstance(model, str)
            and (language is None or isinstance(language, str))
            and isinstance(until, int | float)
            and all(s is not None for s in segments)
            and all(isinstance(t, list) and all(isinstance(i, int) for i in t) for t in tokens)
        )
        if not readable:
            return None
        return cls(model, language, float(until), tuple(segments), tuple(tuple(t) for t in tokens))  # type: ignore[arg-type]
