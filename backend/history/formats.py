"""Render a transcript as plain text, SubRip, WebVTT (by segment or word by word) or JSON: one place for both APIs.

A transcript with speakers says who speaks: plain text in turns (``Anna: …``, a blank line between
turns), SubRip and WebVTT cues with WebVTT's voice tag (``<v Anna>``), JSON with ``speaker`` on
every segment and word.
"""

from __future__ import annotations

import json
from enum import StrEnum

from backend.transcript import Segment, Transcript, Word


class Format(StrEnum):
    TXT = "txt"
    SRT = "srt"
    VTT = "vtt"
    JSON = "json"
    WORDS_VTT = "words.vtt"


MEDIA_TYPES = {
    Format.TXT: "text/plain; charset=utf-8",
    Format.SRT: "application/x-subrip; charset=utf-8",
    Format.VTT: "text/vtt; charset=utf-8",
    Format.JSON: "application/json",
    Format.WORDS_VTT: "text/vtt; charset=utf-8",
}
#: What WebVTT cue text must escape (``<`` starts a tag, ``&`` an entity; ``-->`` would end nothing well).
VTT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def timestamp(seconds: float, decimal: str = ".") -> str:
    """``HH:MM:SS.mmm`` (WebVTT) or ``HH:MM:SS,mmm`` (SubRip)."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def to_text(transcript: Transcript) -> str:
    """The text; with speakers, one paragraph per turn: ``Anna: …``."""
    if not transcript.labelled:
        return transcript.text + "\n"
    return "\n\n".join(f"{name}: {text}" if name else text for name, text in turns(transcript)) + "\n"


def turns(transcript: Transcript) -> list[tuple[str | None, str]]:
    """Who speaks and what, turn by turn (consecutive segments of one speaker joined)."""
    found: list[tuple[str | None, list[str]]] = []
    for segment in transcript.segments:
        name = transcript.speaker_name(segment.speaker)
        if found and found[-1][0] == name:
            found[-1][1].append(segment.text)
        else:
            found.append((name, [segment.text]))
    return [(name, " ".join(texts)) for name, texts in found]


def voice(transcript: Transcript, segment: Segment) -> str:
    """WebVTT's voice tag for the segment's speaker (``<v Anna>``), or nothing."""
    name = transcript.speaker_name(segment.speaker)
    return f"<v {name.translate(VTT_ESCAPES)}>" if name else ""


def to_srt(transcript: Transcript) -> str:
    cues = (
        f"{n}\n{timestamp(s.start, ',')} --> {timestamp(s.end, ',')}\n{voice(transcript, s)}{s.text}\n"
        for n, s in enumerate(transcript.segments, start=1)
    )
    return "\n".join(cues)


def to_vtt(transcript: Transcript) -> str:
    cues = (
        f"{timestamp(s.start)} --> {timestamp(s.end)}\n{voice(transcript, s)}{s.text}\n" for s in transcript.segments
    )
    return "\n".join(["WEBVTT\n", *cues])


def to_word_vtt(transcript: Transcript) -> str:
    """WebVTT whose cues carry each word's start as an inline timestamp (``<00:00:01.200>``), so that
    players can light the words up as they are spoken; a segment without words is a plain cue."""
    cues = (
        f"{timestamp(s.start)} --> {timestamp(s.end)}\n{voice(transcript, s)}{timed_text(s)}\n"
        for s in transcript.segments
    )
    return "\n".join(["WEBVTT\n", *cues])


def timed_text(segment: Segment) -> str:
    """The segment's text with a timestamp before each word that starts inside the cue, after the last one."""
    pieces, cursor, last = [], 0, segment.start
    for word, (start, end) in zip(segment.words, word_spans(segment.text, segment.words), strict=True):
        if start < 0:
            continue
        pieces.append(segment.text[cursor:start].translate(VTT_ESCAPES))
        if last < word.start < segment.end:
            pieces.append(f"<{timestamp(word.start)}>")
            last = word.start
        pieces.append(segment.text[start:end].translate(VTT_ESCAPES))
        cursor = end
    pieces.append(segment.text[cursor:].translate(VTT_ESCAPES))
    return "".join(pieces)


def word_spans(text: str, words: tuple[Word, ...]) -> list[tuple[int, int]]:
    """Where each word lies in ``text``, found in order; ``(-1, -1)`` for one that is not there."""
    spans, cursor = [], 0
    for word in words:
        found = text.find(word.word, cursor) if word.word else -1
        spans.append((found, found + len(word.word)) if found >= 0 else (-1, -1))
        cursor = found + len(word.word) if found >= 0 else cursor
    return spans


def to_json(transcript: Transcript) -> str:
    """Text, language, duration and segments with their words (and the model's text where corrected)."""
    segments = []
    for segment in transcript.segments:
        speaker = {"speaker": transcript.speaker_name(segment.speaker)} if segment.speaker is not None else {}
        fields = {"start": segment.start, "end": segment.end, "text": segment.text, **speaker}
        fields["words"] = [word.to_dict() | speaker for word in segment.words]
        if segment.original is not None:
            fields["original"] = segment.original
        segments.append(fields)
    document = {"text": transcript.text, "language": transcript.language, "duration": transcript.duration}
    if transcript.labelled:
        document["speakers"] = list(transcript.speaker_names().values())
    return json.dumps({**document, "segments": segments}, ensure_ascii=False, indent=2)


def render(transcript: Transcript, fmt: Format) -> str:
    """The transcript as a file in ``fmt``."""
    renderers = {
        Format.TXT: to_text,
        Format.SRT: to_srt,
        Format.VTT: to_vtt,
        Format.JSON: to_json,
        Format.WORDS_VTT: to_word_vtt,
    }
    return renderers[fmt](transcript)
