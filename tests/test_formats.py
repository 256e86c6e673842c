"""backend/formats.py: txt, SubRip, WebVTT and JSON renderings of one transcript."""

from __future__ import annotations

import json

from backend.formats import Format, render, timestamp
from backend.transcript import Segment, Transcript

TRANSCRIPT = Transcript(
    text="three seven stop go",
    language="en",
    duration=3725.5,
    segments=[Segment(0.0, 1.25, "three seven"), Segment(3661.001, 3725.5, "stop go")],
    model="tiny",
)


def test_timestamps_use_each_formats_separator_and_roll_over_hours():
    assert timestamp(3661.001) == "01:01:01.001"
    assert timestamp(3661.001, ",") == "01:01:01,001"
    assert timestamp(-0.2) == "00:00:00.000"


def test_srt_numbers_cues_from_one():
    assert render(TRANSCRIPT, Format.SRT) == (
        "1\n00:00:00,000 --> 00:00:01,250\nthree seven\n\n2\n01:01:01,001 --> 01:02:05,500\nstop go\n"
    )


def test_vtt_starts_with_its_header():
    assert render(TRANSCRIPT, Format.VTT) == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.250\nthree seven\n\n01:01:01.001 --> 01:02:05.500\nstop go\n"
    )


def test_txt_is_the_text():
    assert render(TRANSCRIPT, Format.TXT) == "three seven stop go\n"


def test_json_has_text_language_duration_and_segments():
    data = json.loads(render(TRANSCRIPT, Format.JSON))
    assert data == {
        "text": "three seven stop go",
        "language": "en",
        "duration": 3725.5,
        "segments": [
            {"start": 0.0, "end": 1.25, "text": "three seven"},
            {"start": 3661.001, "end": 3725.5, "text": "stop go"},
        ],
    }
