"""backend/history/formats.py: txt, SubRip, WebVTT and JSON renderings of one transcript."""

from __future__ import annotations

import json

from backend.history.formats import Format, render, timestamp
from backend.transcript import Segment, Transcript, Word

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


def test_json_has_text_language_duration_and_segments_with_their_words():
    data = json.loads(render(TRANSCRIPT, Format.JSON))
    assert data == {
        "text": "three seven stop go",
        "language": "en",
        "duration": 3725.5,
        "segments": [
            {"start": 0.0, "end": 1.25, "text": "three seven", "words": []},
            {"start": 3661.001, "end": 3725.5, "text": "stop go", "words": []},
        ],
    }
    data = json.loads(render(WORDY, Format.JSON))
    assert data["segments"][0]["words"][1] == {"start": 0.5, "end": 0.9, "word": "<seven>", "probability": 0.4}
    assert data["segments"][0]["original"] == "three, seven & stop"


WORDY = Transcript(
    text="Three, <seven> & stop.",
    language="en",
    duration=3.0,
    segments=[
        Segment(
            0.0,
            2.0,
            "Three, <seven> & stop.",
            (Word(0.0, 0.5, "Three,", 0.9), Word(0.5, 0.9, "<seven>", 0.4), Word(1.4, 2.0, "stop.", 0.8)),
            original="three, seven & stop",
        ),
        Segment(2.0, 3.0, "go"),
    ],
    model="tiny",
)


def test_word_vtt_marks_each_word_start_inside_its_cue_and_escapes_the_text():
    assert render(WORDY, Format.WORDS_VTT) == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:02.000\nThree, <00:00:00.500>&lt;seven&gt; &amp; <00:00:01.400>stop.\n\n"
        "00:00:02.000 --> 00:00:03.000\ngo\n"
    )


def test_plain_vtt_and_srt_stay_one_cue_per_segment_without_word_times():
    assert "<00:" not in render(WORDY, Format.VTT) and "<00:" not in render(WORDY, Format.SRT)
