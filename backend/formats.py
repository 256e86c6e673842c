"""Render a transcript as plain text, SubRip, WebVTT or JSON: one place for both APIs."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import StrEnum

from backend.transcript import Transcript


class Format(StrEnum):
    TXT = "txt"
    SRT = "srt"
    VTT = "vtt"
    JSON = "json"


MEDIA_TYPES = {
    Format.TXT: "text/plain; charset=utf-8",
    Format.SRT: "application/x-subrip; charset=utf-8",
    Format.VTT: "text/vtt; charset=utf-8",
    Format.JSON: "application/json",
}


def timestamp(seconds: float, decimal: str = ".") -> str:
    """``HH:MM:SS.mmm`` (WebVTT) or ``HH:MM:SS,mmm`` (SubRip)."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def to_text(transcript: Transcript) -> str:
    return transcript.text + "\n"


def to_srt(transcript: Transcript) -> str:
    cues = (
        f"{n}\n{timestamp(s.start, ',')} --> {timestamp(s.end, ',')}\n{s.text}\n"
        for n, s in enumerate(transcript.segments, start=1)
    )
    return "\n".join(cues)


def to_vtt(transcript: Transcript) -> str:
    cues = (f"{timestamp(s.start)} --> {timestamp(s.end)}\n{s.text}\n" for s in transcript.segments)
    return "\n".join(["WEBVTT\n", *cues])


def to_json(transcript: Transcript) -> str:
    fields = ("text", "language", "duration", "segments")
    return json.dumps({k: v for k, v in asdict(transcript).items() if k in fields}, ensure_ascii=False, indent=2)


def render(transcript: Transcript, fmt: Format) -> str:
    """The transcript as a file in ``fmt``."""
    renderers = {Format.TXT: to_text, Format.SRT: to_srt, Format.VTT: to_vtt, Format.JSON: to_json}
    return renderers[fmt](transcript)
