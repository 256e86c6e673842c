"""The history written by an older Hush opens in this one (backend/history/store.py's migrations and tolerant rows)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from backend.history.store import SCHEMA_VERSION, NewerDatabase, Status, Store
from backend.transcript import Options
from tests.support.helpers import ROOT, wait_until

#: A data folder written by release 036670a (see its README.md).
RELEASE_0_1 = ROOT / "tests" / "assets" / "history-v0"


@pytest.fixture
def old_data(tmp_path) -> Path:
    """A copy of the old data folder: the test may change it, the committed one stays as it was."""
    folder = tmp_path / "data"
    shutil.copytree(RELEASE_0_1, folder, ignore=shutil.ignore_patterns("README.md"))
    return folder


def user_version(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def test_the_old_history_is_listed_searched_played_and_retried(start_server, words_checkpoint, old_data):
    assert user_version(old_data / "hush.db") == 0
    live = start_server(model=words_checkpoint, data_dir=old_data)
    live.wait_until_ready()
    assert user_version(old_data / "hush.db") == SCHEMA_VERSION
    with live.client() as client:
        page = client.get("/api/transcriptions").json()
        assert page["total"] == 5
        listed = {item["filename"]: item for item in page["items"]}
        assert {name: item["status"] for name, item in listed.items()} == {
            "three seven.flac": "done",
            "memo.flac": "done",
            "notes.wav": "failed",
            "left right.wav": "cancelled",
            "recording.wav": "interrupted",  # left running by a killed process
        }
        done = client.get(f"/api/transcriptions/{listed['three seven.flac']['id']}").json()
        assert done["text"] == "three seven stop go" and done["segments"][0]["text"] == "three seven stop go"

        found = client.get("/api/transcriptions", params={"q": "seven"}).json()["items"]
        assert [item["filename"] for item in found] == ["three seven.flac"]
        assert [i["filename"] for i in client.get("/api/transcriptions", params={"q": "memo"}).json()["items"]] == [
            "memo.flac"
        ]

        audio = client.get(f"/api/transcriptions/{done['id']}/audio")
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/flac"
        assert audio.content[:4] == b"fLaC"

        for name in ("recording.wav", "left right.wav"):
            job_id = listed[name]["id"]
            assert client.post(f"/api/transcriptions/{job_id}/retry").status_code == 202

            def finished(job_id: str = job_id) -> dict | None:
                job = client.get(f"/api/transcriptions/{job_id}").json()
                return job if job["status"] == "done" else None

            assert wait_until(finished, 60, f"the retried {name}")["text"] == "left right on off"
        failed = client.post(f"/api/transcriptions/{listed['notes.wav']['id']}/retry")
        assert failed.status_code == 400 and "not an audio or video file" in failed.json()["detail"]
        assert client.get(f"/api/transcriptions/{listed['notes.wav']['id']}").json()["status"] == "failed"


def test_options_and_segments_the_code_does_not_know_never_break_the_history(old_data):
    database = old_data / "hush.db"
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT id, options, segments FROM jobs WHERE status = 'done'").fetchall()
        first, second = rows[0][0], rows[1][0]
        db.execute(
            "UPDATE jobs SET options = ?, segments = ? WHERE id = ?",
            (
                json.dumps({"task": "summarise", "beam_size": "many", "diarize": True, "language": "de"}),
                json.dumps([{"start": 0, "end": 1, "text": "kept", "speaker": "A"}, {"start": 2}]),
                first,
            ),
        )
        db.execute("UPDATE jobs SET options = 'not json', segments = '{\"a\": 1}' WHERE id = ?", (second,))
    store = Store(database, old_data / "recordings")
    jobs = {job.id: store.get(job.id) for job in store.list()[0]}  # a list leaves the segments out
    assert jobs[first].options == Options(language="de")
    assert [s.text for s in jobs[first].transcript.segments] == ["kept"]
    assert jobs[second].options == Options() and jobs[second].transcript.segments == []
    assert {job.status for job in jobs.values()} <= set(Status)


def test_a_history_from_a_newer_hush_is_refused_with_a_reason(tmp_path):
    database = tmp_path / "hush.db"
    with sqlite3.connect(database) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(NewerDatabase, match="newer version of Hush"):
        Store(database, tmp_path / "recordings")


def test_migrating_twice_changes_nothing(old_data):
    Store(old_data / "hush.db", old_data / "recordings").close()
    Store(old_data / "hush.db", old_data / "recordings").close()
    assert user_version(old_data / "hush.db") == SCHEMA_VERSION
