"""What a long transcription has finished so far: saved as it goes, so that after a crash or a
quit the job goes on from its last finished chunk instead of starting again.

Torch-free: the store saves it and the job queue hands it back to the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from backend.transcript import Segment


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
