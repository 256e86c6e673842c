"""What a transcription is asked for and what it gives back: the types the web layer shares with the engine.

Nothing here imports torch or transformers, so the store, the job queue and the routes
load (and the server answers) while the engine is still importing them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args

Task = Literal["transcribe", "translate"]
TASKS: tuple[str, ...] = get_args(Task)

#: Called with the fraction of the audio done (0..1) as the windows go by.
Progress = Callable[[float], None]


#: What each option may hold when it is read back from the history.
OPTION_TYPES: dict[str, type | tuple[type, ...]] = {
    "language": (str, type(None)),
    "task": str,
    "prompt": (str, type(None)),
    "temperature": (int, float, type(None)),
    "beam_size": int,
}


class InvalidOptions(ValueError):
    """An option the loaded model cannot honour (unknown language, translate on an English-only model)."""


class Cancelled(Exception):
    """The job was cancelled (or Hush is shutting down); a running one stops within a decoding step."""


@dataclass(frozen=True)
class Options:
    """How to transcribe: ``None`` lets the model decide (language) or uses Whisper's fallback (temperature)."""

    language: str | None = None
    task: Task = "transcribe"
    prompt: str | None = None
    temperature: float | None = None
    beam_size: int = 1

    @classmethod
    def from_dict(cls, values: object) -> Options:
        """Options as stored by any version of Hush: unknown keys are ignored, missing or broken ones default."""
        known = {
            name: value
            for name, value in known_fields(cls, values).items()
            if isinstance(value, OPTION_TYPES[name]) and not isinstance(value, bool)
        }
        if known.get("task", "transcribe") not in TASKS:
            del known["task"]
        return cls(**known)


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str

    @classmethod
    def from_dict(cls, values: object) -> Segment | None:
        """A stored segment, or ``None`` if it lacks its times or text."""
        known = known_fields(cls, values)
        try:
            return cls(float(known["start"]), float(known["end"]), str(known["text"]))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass
class Transcript:
    text: str
    language: str | None
    duration: float
    segments: list[Segment]
    model: str
    timings: dict[str, float] = field(default_factory=dict)


def known_fields(cls: type, values: object) -> dict[str, Any]:
    """The entries of ``values`` that the dataclass ``cls`` has fields for (nothing if it is not a dict)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in values.items() if k in names} if isinstance(values, dict) else {}
