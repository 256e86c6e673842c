"""Corrections of a transcript's segments: kept beside the model's text in the history, used by every
read, search and export, revertible; and the API that makes them (checkpoints without alignment heads)."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest

from backend.history.store import MIGRATIONS, SCHEMA_VERSION, Status, Store
from backend.transcript import Correction, Options, Segment, Transcript, Word

WORDS = (Word(0.1, 0.4, "Seven", 0.9), Word(0.4, 0.8, "pre-apples.", 0.3))
TRANSCRIPT = Transcript(
    text="Seven pre-apples. Sit down.",
    language="en",
    duration=2.0,
    segments=[Segment(0.1, 0.8, "Seven pre-apples.", WORDS), Segment(1.0, 1.6, "Sit down.")],
    model="whisper-base",
)


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(tmp_path / "hush.db", tmp_path / "recordings")
    yield store
    store.close()


def finished(store: Store, transcript: Transcript = TRANSCRIPT) -> str:
    job = store.add(io.BytesIO(b"RIFF"), "apples.wav", Options())
    store.finish(job.id, transcript)
    return job.id


def found(store: Store, query: str) -> list[str]:
    return [job.id for job in store.list(query)[0]]


def test_a_correction_replaces_the_segments_text_and_keeps_the_models(store):
    job_id = finished(store)
    job = store.correct(job_id, 0, Correction("Seven green apples."))
    first = job.transcript.segments[0]
    assert (first.text, first.original, first.words) == ("Seven green apples.", "Seven pre-apples.", ())
    assert (first.start, first.end) == (0.1, 0.8)
    assert job.transcript.text == "Seven green apples. Sit down."
    assert job.transcript.segments[1] == TRANSCRIPT.segments[1]
    assert found(store, "green") == [job_id] and found(store, "pre") == []
    assert store.list()[0][0].transcript.text == "Seven green apples. Sit down."


def test_a_corrections_words_are_kept_only_while_its_text_stands(store):
    job_id = finished(store)
    store.correct(job_id, 0, Correction("Seven green apples."))
    placed = (Word(0.1, 0.3, "Seven", 0.9), Word(0.3, 0.5, "green", 0.2), Word(0.5, 0.8, "apples.", 0.8))
    assert store.place_words(job_id, 0, "Seven green apples.", placed).transcript.segments[0].words == placed
    store.correct(job_id, 0, Correction("Seven red apples."))
    late = store.place_words(job_id, 0, "Seven green apples.", placed)  # words of a text replaced meanwhile
    assert late.transcript.segments[0].text == "Seven red apples." and late.transcript.segments[0].words == ()


def test_a_revert_brings_back_the_models_text_and_words(store):
    job_id = finished(store)
    store.correct(job_id, 0, Correction("Seven green apples."))
    job = store.correct(job_id, 0, None)
    assert job.transcript == TRANSCRIPT and found(store, "pre") == [job_id] and found(store, "green") == []


def test_corrections_survive_a_restart_and_go_with_a_new_transcript(tmp_path):
    first = Store(tmp_path / "hush.db", tmp_path / "recordings")
    job_id = finished(first)
    first.correct(job_id, 1, Correction("Sit down, please."))
    first.close()
    again = Store(tmp_path / "hush.db", tmp_path / "recordings")
    transcript = again.get(job_id).transcript
    assert transcript.text == "Seven pre-apples. Sit down, please." and transcript.segments[1].original == "Sit down."
    assert found(again, "please") == [job_id]
    again.finish(job_id, TRANSCRIPT)  # transcribed again: the old corrections no longer fit its segments
    assert again.get(job_id).transcript == TRANSCRIPT
    again.close()


def test_text_without_spaces_between_segments_keeps_none(store):
    chinese = Transcript("你好。再见。", "zh", 2.0, [Segment(0, 1, "你好。"), Segment(1, 2, "再见。")], "m")
    job_id = finished(store, chinese)
    assert store.correct(job_id, 1, Correction("回头见。")).transcript.text == "你好。回头见。"


def test_unreadable_corrections_and_words_are_left_out(store, tmp_path):
    job_id = finished(store)
    with sqlite3.connect(tmp_path / "hush.db") as db:
        broken = {"0": {"text": "Fixed.", "words": [{"start": "x"}, {"start": 0, "end": 1, "word": "Fixed."}]}}
        broken |= {"1": {"words": []}, "x": {"text": "no index"}, "7": {"text": "past the end"}}
        db.execute("UPDATE jobs SET corrections = ? WHERE id = ?", (json.dumps(broken), job_id))
    transcript = store.get(job_id).transcript
    assert [s.text for s in transcript.segments] == ["Fixed.", "Sit down."]
    assert transcript.segments[0].words == (Word(0.0, 1.0, "Fixed.", 1.0),)


def test_a_history_of_schema_1_gains_corrections_and_keeps_its_rows(tmp_path):
    database = tmp_path / "hush.db"
    with sqlite3.connect(database) as db:
        db.executescript(MIGRATIONS[0])
        segments = json.dumps([{"start": 0, "end": 1, "text": "three seven", "speaker": "A"}])
        db.execute(
            "INSERT INTO jobs (id, created, updated, filename, audio, status, options, text, segments)"
            " VALUES ('old', 1, 1, 'a.wav', 'old.wav', 'done', '{}', 'three seven', ?)",
            (segments,),
        )
        db.execute("PRAGMA user_version = 1")
    store = Store(database, tmp_path / "recordings")
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.get("old").transcript.segments == [Segment(0.0, 1.0, "three seven")]
    assert store.correct("old", 0, Correction("three eleven")).transcript.text == "three eleven"
    store.close()


# -- the API, with the 20-word checkpoint: it has no alignment heads -----------------------------------
@pytest.fixture(scope="module")
def done_job(words_server, speak) -> dict:
    with words_server.client() as client, speak("three seven stop go", pad_seconds=0.5).open("rb") as audio:
        response = client.post("/api/transcriptions", files={"file": ("memo.wav", audio, "audio/wav")})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_model_without_alignment_heads_gives_no_words_rather_than_made_up_ones(done_job):
    assert done_job["segments"] and all(segment["words"] == [] for segment in done_job["segments"])


def test_a_correction_is_saved_read_searched_exported_and_reverted(words_server, done_job):
    job_id = done_job["id"]
    with words_server.client() as client:
        corrected = client.patch(f"/api/transcriptions/{job_id}/segments/0", json={"text": "  three   eleven stop go "})
        assert corrected.status_code == 200, corrected.text
        segment = corrected.json()["segments"][0]
        assert (segment["text"], segment["original"]) == ("three eleven stop go", "three seven stop go")
        assert segment["words"] == []  # no alignment heads: dropped, the segment's times kept
        assert (segment["start"], segment["end"]) == (done_job["segments"][0]["start"], done_job["segments"][0]["end"])
        assert client.get(f"/api/transcriptions/{job_id}").json()["text"] == "three eleven stop go"
        assert [i["id"] for i in client.get("/api/transcriptions", params={"q": "eleven"}).json()["items"]] == [job_id]
        for fmt in ("txt", "srt", "vtt", "words.vtt", "json"):
            exported = client.get(f"/api/transcriptions/{job_id}/export/{fmt}")
            assert exported.status_code == 200 and "three eleven stop go" in exported.text, fmt

        reverted = client.delete(f"/api/transcriptions/{job_id}/segments/0/correction")
        assert reverted.status_code == 200 and reverted.json()["segments"][0] == done_job["segments"][0]
        again = client.delete(f"/api/transcriptions/{job_id}/segments/0/correction")
        assert again.status_code == 404 and "no correction" in again.json()["detail"]

        client.patch(f"/api/transcriptions/{job_id}/segments/0", json={"text": "three one"})
        back = client.patch(f"/api/transcriptions/{job_id}/segments/0", json={"text": "three seven stop go"})
        assert back.json()["segments"][0]["original"] is None  # the model's own text again is a revert


@pytest.mark.parametrize(
    ("path", "body", "status", "detail"),
    [
        ("/api/transcriptions/nope/segments/0", {"text": "x"}, 404, "no transcription with this id"),
        ("/api/transcriptions/{id}/segments/9", {"text": "x"}, 404, "there is no segment 9"),
        ("/api/transcriptions/{id}/segments/0", {"text": "   "}, 422, "the correction is empty"),
        ("/api/transcriptions/{id}/segments/0", {}, 422, "text"),
        ("/api/transcriptions/{id}/segments/-1", {"text": "x"}, 422, "index"),
    ],
)
def test_a_correction_that_cannot_be_made_says_why(words_server, done_job, path, body, status, detail):
    with words_server.client() as client:
        response = client.patch(path.format(id=done_job["id"]), json=body)
    assert response.status_code == status and detail in response.json()["detail"]


def test_an_unfinished_transcription_cannot_be_corrected(words_server):
    job = words_server.jobs.store.add(io.BytesIO(b"RIFF"), "later.wav", Options())
    words_server.jobs.store.set_status(job.id, Status.FAILED, "It broke.")
    with words_server.client() as client:
        response = client.patch(f"/api/transcriptions/{job.id}/segments/0", json={"text": "x"})
        assert response.status_code == 409 and "is failed" in response.json()["detail"]
        response = client.get(f"/api/transcriptions/{job.id}/export/txt")
        assert response.status_code == 409
