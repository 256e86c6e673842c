"""Word timing and corrections with real OpenAI whisper-base (int8 on the CPU, as Hush runs it).

Sentences spoken by espeak-ng are cut to their sound (from the first to the last sample
louder than 1 % of their peak: that first sample is the measured speech onset) and
separated by known stretches of digital silence, over more than one 30 s window.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from backend.audio import SAMPLE_RATE
from backend.history.formats import timestamp
from backend.transcript import Options, Transcript
from tests.support.media import encode
from tests.support.real_weights import overlap

SENTENCES = [
    "Please call my sister tomorrow morning.",
    "The weather today is cold and windy.",
    "We will meet at the station at noon.",
    "Open the window and let the fresh air in.",
    "The children are playing in the garden.",
    "My grandfather repairs old clocks in his workshop.",
    "The train leaves in ten minutes.",
    "She painted the kitchen walls yellow.",
]
SILENCES = [1.0, 2.2, 0.8, 3.0, 1.5, 2.6, 0.9, 1.8, 1.2]  # before each sentence, and after the last
ONSET_TOLERANCE = 0.3
EXPORTS = ("txt", "srt", "vtt", "words.vtt", "json")


@dataclass
class Spaced:
    audio: np.ndarray
    onsets: list[float]  # where each sentence's sound starts, in seconds
    silences: list[tuple[float, float]]  # from the last loud sample to the next one


@pytest.fixture(scope="module")
def spaced(hear) -> Spaced:
    parts, onsets, silences, samples = [], [], [], 0
    for pause, sentence in itertools.zip_longest(SILENCES, SENTENCES):
        parts.append(np.zeros(round(pause * SAMPLE_RATE), np.float32))
        silences.append((samples / SAMPLE_RATE, (samples + len(parts[-1])) / SAMPLE_RATE))
        samples += len(parts[-1])
        if sentence is not None:
            clip = hear(sentence)
            loud = np.flatnonzero(np.abs(clip) > 0.01 * np.abs(clip).max())
            parts.append(clip[loud[0] : loud[-1] + 1])
            onsets.append(samples / SAMPLE_RATE)
            samples += len(parts[-1])
    audio = np.concatenate(parts)
    assert len(audio) / SAMPLE_RATE > 30  # more than one window
    return Spaced(audio, onsets, silences)


@pytest.fixture(scope="module")
def transcript(base_engine, spaced) -> Transcript:
    return base_engine.transcribe(spaced.audio, Options(language="en"))


def test_every_sentence_is_heard(transcript):
    missing = [s for s in SENTENCES if overlap(s, transcript.text) < 0.6]
    assert not missing, transcript.text


def test_every_word_is_placed_in_order_inside_its_segment(transcript):
    assert transcript.segments and all(segment.words for segment in transcript.segments)
    for segment in transcript.segments:
        assert segment.start == segment.words[0].start and segment.end == segment.words[-1].end
        assert " ".join(w.word for w in segment.words) == " ".join(segment.text.split())
    words = [word for segment in transcript.segments for word in segment.words]
    assert all(0.0 <= w.start <= w.end <= transcript.duration and 0.0 <= w.probability <= 1.0 for w in words)
    assert all(a.end <= b.start for a, b in itertools.pairwise(words)), "words overlap"


def test_each_sentences_first_word_starts_at_its_speech_and_no_word_inside_a_silence(transcript, spaced):
    words = [word for segment in transcript.segments for word in segment.words]
    for onset, (silence_start, _) in zip(spaced.onsets, spaced.silences, strict=False):
        first = next(w for w in words if w.start > silence_start)
        assert abs(first.start - onset) <= ONSET_TOLERANCE, (first, onset)
    inside = [(w, silence) for w in words for silence in spaced.silences if silence[0] < w.start < silence[1]]
    assert not inside


def test_word_timing_can_be_left_out(base_engine, hear):
    transcript = base_engine.transcribe(hear(SENTENCES[0]), Options(language="en", words=False))
    assert transcript.text and not any(segment.words for segment in transcript.segments)


# -- through the API: corrections realigned, kept across a restart, in every export and search -------
@pytest.fixture(scope="module")
def recording(spaced, tmp_path_factory) -> bytes:
    return encode(spaced.audio, SAMPLE_RATE, tmp_path_factory.mktemp("spaced") / "spaced.wav", "wav").read_bytes()


def test_openai_verbose_json_gives_the_granularities_asked_for(start_server, base_converted, recording):
    live = start_server(model=base_converted)
    live.wait_until_ready(300)
    with live.client() as client:
        both = client.post(
            "/v1/audio/transcriptions",
            files={"file": ("spaced.wav", recording, "audio/wav")},
            data={"response_format": "verbose_json", "timestamp_granularities[]": ["word", "segment"]},
        ).json()
        words_only = client.post(
            "/v1/audio/transcriptions",
            files={"file": ("spaced.wav", recording, "audio/wav")},
            data={"response_format": "verbose_json", "timestamp_granularities[]": "word"},
        ).json()
    assert both["segments"] and len(both["words"]) >= sum(len(s.split()) for s in SENTENCES) * 0.8
    assert set(both["words"][0]) == {"word", "start", "end"}
    assert "segments" not in words_only and words_only["words"]
    live.stop()


def test_a_correction_is_realigned_and_kept_across_a_restart_in_every_export_and_search(
    start_server, base_converted, recording, spaced, tmp_path
):
    first = start_server(model=base_converted, data_dir=tmp_path)
    first.wait_until_ready(300)
    with first.client() as client:
        job = client.post("/api/transcriptions", files={"file": ("spaced.wav", recording, "audio/wav")}).json()
        index, segment = next((i, s) for i, s in enumerate(job["segments"]) if "sister" in s["text"])
        fixed = segment["text"].replace("sister", "brother")
        corrected = client.patch(f"/api/transcriptions/{job['id']}/segments/{index}", json={"text": fixed})
        assert corrected.status_code == 200, corrected.text
    realigned = corrected.json()["segments"][index]
    assert (realigned["text"], realigned["original"]) == (fixed, segment["text"])
    assert (realigned["start"], realigned["end"]) == (segment["start"], segment["end"])
    assert [w["word"] for w in realigned["words"]] == fixed.split()
    assert all(segment["start"] <= w["start"] <= w["end"] <= segment["end"] for w in realigned["words"])
    assert abs(realigned["words"][0]["start"] - spaced.onsets[0]) <= ONSET_TOLERANCE
    before = {w["word"]: w["start"] for w in segment["words"]}
    after = {w["word"]: w["start"] for w in realigned["words"]}
    assert abs(after["brother"] - before["sister"]) <= 0.2, (segment["words"], realigned["words"])
    first.stop()

    again = start_server(model=base_converted, data_dir=tmp_path)
    with again.client() as client:
        stored = client.get(f"/api/transcriptions/{job['id']}").json()
        assert stored["segments"][index] == realigned and "brother" in stored["text"]
        assert "sister" not in stored["text"]
        exports = {fmt: client.get(f"/api/transcriptions/{job['id']}/export/{fmt}") for fmt in EXPORTS}
        for fmt in ("txt", "srt", "vtt", "words.vtt"):
            assert "brother" in exports[fmt].text and "sister" not in exports[fmt].text, fmt
        assert f"<{timestamp(after['brother'])}>brother" in exports["words.vtt"].text
        document = exports["json"].json()
        assert "brother" in document["text"] and "sister" not in document["text"]
        assert document["segments"][index]["words"] == realigned["words"]
        found = client.get("/api/transcriptions", params={"q": "brother"}).json()["items"]
        assert [item["id"] for item in found] == [job["id"]]
        assert client.get("/api/transcriptions", params={"q": "sister"}).json()["total"] == 0

        reverted = client.delete(f"/api/transcriptions/{job['id']}/segments/{index}/correction").json()
        assert reverted["segments"][index] == segment
    again.stop()
