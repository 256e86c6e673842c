"""Speakers in the history (backend/history/speakers.py, store.py): names, merges and moves kept beside
the labeller's speakers, undoable, searchable, across a restart, and in every export format."""

from __future__ import annotations

import io
import json
import re
import shutil

import pytest

from backend.history import formats
from backend.history.corrections import NotCorrectable
from backend.history.speakers import Speakers
from backend.history.store import SCHEMA_VERSION, Store
from backend.transcript import Correction, Options, Segment, Transcript, Word
from tests.support.helpers import ROOT

LABELLED = Transcript(
    text="Good morning. Hello, how are you? Fine, thanks. And you?",
    language="en",
    duration=8.0,
    segments=[
        Segment(0.0, 1.2, "Good morning.", (Word(0.0, 0.5, "Good", 0.9), Word(0.5, 1.2, "morning.", 0.9)), speaker=1),
        Segment(1.5, 3.0, "Hello, how are you?", speaker=2),
        Segment(3.5, 5.0, "Fine, thanks.", speaker=1),
        Segment(5.5, 7.0, "And you?", speaker=3),
    ],
    model="whisper-base",
)


@pytest.fixture
def folder(tmp_path):
    return tmp_path


def open_store(folder) -> Store:
    return Store(folder / "hush.db", folder / "recordings")


@pytest.fixture
def store(folder):
    store = open_store(folder)
    yield store
    store.close()


def finished(store: Store, transcript: Transcript = LABELLED) -> str:
    job = store.add(io.BytesIO(b"RIFF"), "interview.wav", Options(speakers="auto"))
    store.finish(job.id, transcript)
    return job.id


def speakers_of(transcript: Transcript) -> list[str | None]:
    return [transcript.speaker_name(s.speaker) for s in transcript.segments]


def test_speakers_are_named_by_number_until_a_person_names_them(store):
    job = store.get(finished(store))
    assert job.options.speakers == "auto"
    assert speakers_of(job.transcript) == ["Speaker 1", "Speaker 2", "Speaker 1", "Speaker 3"]
    assert job.transcript.speaker_names() == {1: "Speaker 1", 2: "Speaker 2", 3: "Speaker 3"}


def test_rename_merge_and_move_persist_across_a_restart_and_each_can_be_undone(folder):
    store = open_store(folder)
    job_id = finished(store)
    speakers = Speakers(store, None, 60)
    speakers.rename(job_id, 1, "  Anna  ")
    speakers.rename(job_id, 2, "Ben")
    speakers.merge(job_id, 3, 2)  # speaker 3 was Ben too
    speakers.move(job_id, 2, 2)  # "Fine, thanks." was Ben's
    store.close()

    store = open_store(folder)
    transcript = store.get(job_id).transcript
    assert speakers_of(transcript) == ["Anna", "Ben", "Ben", "Ben"]
    assert transcript.speaker_names() == {1: "Anna", 2: "Ben"}

    speakers = Speakers(store, None, 60)
    speakers.move(job_id, 2, None)
    speakers.merge(job_id, 3, None)
    speakers.rename(job_id, 1, None)
    assert speakers_of(store.get(job_id).transcript) == ["Speaker 1", "Ben", "Speaker 1", "Speaker 3"]
    store.close()


def test_names_are_searchable(store):
    job_id = finished(store)
    other = finished(store)
    Speakers(store, None, 60).rename(job_id, 2, "Anneliese")
    assert [job.id for job in store.list("Anneliese")[0]] == [job_id]
    assert {job.id for job in store.list("morning")[0]} == {job_id, other}


def test_edits_that_make_no_sense_are_refused_with_a_reason(store):
    job_id = finished(store)
    speakers = Speakers(store, None, 60)
    with pytest.raises(NotCorrectable, match="no speaker 7") as refused:
        speakers.rename(job_id, 7, "Zoe")
    assert refused.value.status == 404
    with pytest.raises(NotCorrectable, match="itself"):
        speakers.merge(job_id, 1, 1)
    with pytest.raises(NotCorrectable, match="nothing to undo"):
        speakers.merge(job_id, 1, None)
    unlabelled = finished(store, Transcript("Hi.", "en", 1.0, [Segment(0.0, 1.0, "Hi.")], "whisper-base"))
    with pytest.raises(NotCorrectable, match="label its speakers first"):
        speakers.move(unlabelled, 0, 1)


def test_relabelling_keeps_corrections_at_their_segments_new_places(store):
    job_id = finished(store)
    store.correct(job_id, 1, Correction("Hello, how are you doing?"))
    Speakers(store, None, 60).rename(job_id, 1, "Anna")
    split = [
        Segment(0.0, 0.5, "Good", speaker=1),
        Segment(0.5, 1.2, "morning.", speaker=2),
        *[
            Segment(s.start, s.end, LABELLED.segments[i].text, speaker=1)
            for i, s in enumerate(LABELLED.segments[1:], 1)
        ],
    ]
    store.relabel(job_id, split, {2: Correction("Hello, how are you doing?")})
    transcript = store.get(job_id).transcript
    assert transcript.segments[2].text == "Hello, how are you doing?"
    assert transcript.speakers == {}  # names of the old labels no longer fit


def cues(vtt: str) -> list[tuple[str, str]]:
    """(voice, text) of each cue of a WebVTT or SubRip file with voice tags."""
    return re.findall(r"<v ([^>]+)>(.*)", vtt)


def test_every_export_says_who_speaks(store):
    job_id = finished(store)
    speakers = Speakers(store, None, 60)
    speakers.rename(job_id, 1, "Anna")
    speakers.merge(job_id, 3, 2)
    transcript = store.get(job_id).transcript

    text = formats.render(transcript, formats.Format.TXT)
    assert text.split("\n\n") == [
        "Anna: Good morning.",
        "Speaker 2: Hello, how are you?",
        "Anna: Fine, thanks.",
        "Speaker 2: And you?\n",
    ]
    vtt = formats.render(transcript, formats.Format.VTT)
    assert vtt.startswith("WEBVTT")
    assert cues(vtt) == [
        ("Anna", "Good morning."),
        ("Speaker 2", "Hello, how are you?"),
        ("Anna", "Fine, thanks."),
        ("Speaker 2", "And you?"),
    ]
    srt = formats.render(transcript, formats.Format.SRT)
    blocks = [block.split("\n") for block in srt.strip().split("\n\n")]
    assert [b[0] for b in blocks] == ["1", "2", "3", "4"]
    assert blocks[1][1] == "00:00:01,500 --> 00:00:03,000" and blocks[1][2] == "<v Speaker 2>Hello, how are you?"
    words_vtt = formats.render(transcript, formats.Format.WORDS_VTT)
    assert cues(words_vtt)[0] == ("Anna", "Good <00:00:00.500>morning.")
    document = json.loads(formats.render(transcript, formats.Format.JSON))
    assert document["speakers"] == ["Anna", "Speaker 2"]
    assert [s["speaker"] for s in document["segments"]] == ["Anna", "Speaker 2", "Anna", "Speaker 2"]
    assert {w["speaker"] for w in document["segments"][0]["words"]} == {"Anna"}


def test_a_transcript_without_speakers_exports_as_before(store):
    plain = Transcript("Hi there.", "en", 1.0, [Segment(0.0, 1.0, "Hi there.")], "whisper-base")
    transcript = store.get(finished(store, plain)).transcript
    assert formats.render(transcript, formats.Format.TXT) == "Hi there.\n"
    assert "<v " not in formats.render(transcript, formats.Format.VTT)
    assert "speaker" not in formats.render(transcript, formats.Format.JSON)


def test_an_old_history_opens_with_no_speakers(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "tests" / "assets" / "history-v0", folder, ignore=shutil.ignore_patterns("README.md"))
    store = open_store(folder)
    try:
        jobs, total = store.list()
        assert total == 5
        done = [store.get(job.id) for job in jobs if job.transcript is not None]
        assert done and all(not job.transcript.labelled and job.options.speakers == "off" for job in done)
        assert store.speaker_edits(done[0].id).empty
        version = store._db.execute("PRAGMA user_version").fetchone()[0]
        assert version == SCHEMA_VERSION
    finally:
        store.close()
