"""The stored history (backend/history/store.py and jobs.py, the history API): kept, found, queued, cancelled."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from backend.history.store import Status, Store, match_expression
from backend.transcript import Cancelled, Options, Segment
from tests.support.helpers import wait_until


@pytest.fixture(scope="module")
def client(random_server):
    with random_server.client() as client:
        yield client


def upload(client, content: bytes, name: str = "memo.wav", **params):
    return client.post("/api/transcriptions", files={"file": (name, content)}, params=params)


def wait_for(client, job_id: str, *statuses: str, timeout: float = 60) -> dict:
    """The job once its status is one of ``statuses``."""

    def reached() -> dict | None:
        job = client.get(f"/api/transcriptions/{job_id}").json()
        return job if job["status"] in statuses else None

    return wait_until(reached, timeout, f"job {job_id} to be {' or '.join(statuses)}")


def test_a_transcription_is_stored_with_its_recording_and_listed_newest_first(client, media, random_server):
    first = upload(client, media["wav"].read_bytes(), "first.wav").json()
    second = upload(client, media["ogg"].read_bytes(), "second.ogg").json()
    page = client.get("/api/transcriptions").json()
    assert [item["id"] for item in page["items"][:2]] == [second["id"], first["id"]]
    assert page["total"] >= 2
    job = client.get(f"/api/transcriptions/{first['id']}").json()
    assert job["status"] == "done" and job["progress"] == 1.0 and job["position"] is None
    assert (job["text"], job["language"], job["segments"]) == (first["text"], first["language"], first["segments"])
    assert job["timings"]["decode"] >= 0 and job["filename"] == "first.wav"
    audio = client.get(f"/api/transcriptions/{first['id']}/audio")
    assert audio.status_code == 200 and audio.content == media["wav"].read_bytes()
    assert audio.headers["content-type"].startswith("audio/")


def test_paging_and_full_text_search(client, media, random_server):
    job = upload(client, media["wav"].read_bytes(), "searchable-kiwi.wav").json()
    word = job["text"].split()[0]
    found = client.get("/api/transcriptions", params={"q": "kiwi"}).json()
    assert [item["id"] for item in found["items"]] == [job["id"]]
    assert job["id"] in [item["id"] for item in client.get("/api/transcriptions", params={"q": word}).json()["items"]]
    assert client.get("/api/transcriptions", params={"q": "zzzqqq"}).json() == {
        "items": [],
        "total": 0,
        "offset": 0,
        "limit": 50,
    }
    # FTS syntax in a search box is just words, never an error
    assert client.get("/api/transcriptions", params={"q": 'kiwi" OR NEAR(*'}).status_code == 200
    one = client.get("/api/transcriptions", params={"limit": 1, "offset": 1}).json()
    assert len(one["items"]) == 1 and one["offset"] == 1


def test_delete_removes_the_job_and_its_recording(client, media, random_server):
    job = upload(client, media["wav"].read_bytes(), "doomed.wav").json()
    stored = random_server.server.app.state.jobs.store.get(job["id"]).audio
    assert stored.is_file()
    assert client.delete(f"/api/transcriptions/{job['id']}").status_code == 204
    assert not stored.exists()
    missing = client.get(f"/api/transcriptions/{job['id']}")
    assert missing.status_code == 404 and "deleted" in missing.json()["detail"]
    assert client.delete(f"/api/transcriptions/{job['id']}").status_code == 404


def test_failed_jobs_keep_their_recording(client, random_server):
    response = upload(client, b"not audio at all " * 100, "notes.txt")
    assert response.status_code == 400
    newest = client.get("/api/transcriptions", params={"limit": 1}).json()["items"][0]
    assert newest["filename"] == "notes.txt" and newest["status"] == "failed"
    assert "not an audio or video file" in newest["error"]
    assert client.get(f"/api/transcriptions/{newest['id']}/audio").content == b"not audio at all " * 100


@pytest.fixture
def held(random_server, monkeypatch):
    """Holds every transcription at its first window until ``.set()``: jobs stay running/queued."""
    engine = random_server.engine
    real_submit = engine.submit
    gate = threading.Event()

    def gated_submit(request):
        def progress(done: float) -> None:
            request.on_progress(done)
            while not gate.wait(0.05):
                if request.cancel.is_set():
                    raise Cancelled("The transcription was cancelled.")

        return real_submit(replace(request, on_progress=progress))

    monkeypatch.setattr(engine, "submit", gated_submit)
    yield gate
    gate.set()


def test_queue_position_progress_and_cancel(client, media, held):
    wav = media["wav"].read_bytes()
    running = upload(client, wav, "one.wav", wait="false")
    assert running.status_code == 202
    first = wait_for(client, running.json()["id"], "running")
    assert first["position"] == 0 and first["progress"] == 0.0
    second = upload(client, wav, "two.wav", wait="false").json()
    third = upload(client, wav, "three.wav", wait="false").json()
    assert (second["status"], second["position"], third["position"]) == ("queued", 1, 2)
    assert client.delete(f"/api/transcriptions/{second['id']}").status_code == 409

    cancelled = client.post(f"/api/transcriptions/{second['id']}/cancel")
    assert cancelled.status_code == 202
    assert wait_for(client, second["id"], "cancelled")["error"] == "The transcription was cancelled."
    assert client.get(f"/api/transcriptions/{third['id']}").json()["position"] == 1

    client.post(f"/api/transcriptions/{first['id']}/cancel")
    assert wait_for(client, first["id"], "cancelled")["status"] == "cancelled"
    again = client.post(f"/api/transcriptions/{first['id']}/cancel")
    assert again.status_code == 409 and "queued or running" in again.json()["detail"]
    held.set()
    assert wait_for(client, third["id"], "done")["text"]


def test_retry_transcribes_a_stored_recording_again(client, media, held):
    job = upload(client, media["wav"].read_bytes(), "again.wav", wait="false").json()
    client.post(f"/api/transcriptions/{job['id']}/cancel")
    wait_for(client, job["id"], "cancelled")
    held.set()
    retried = client.post(f"/api/transcriptions/{job['id']}/retry")
    assert retried.status_code == 202 and retried.json()["status"] in ("queued", "running", "done")
    assert wait_for(client, job["id"], "done")["text"]
    assert client.post("/api/transcriptions/no-such-job/retry").status_code == 404


def test_a_restart_marks_unfinished_jobs_interrupted(tmp_path, media):
    store = Store(tmp_path / "hush.db", tmp_path / "recordings")
    with media["wav"].open("rb") as source:
        queued = store.add(source, "../../etc/passwd", Options())
    with media["ogg"].open("rb") as source:
        running = store.add(source, "b.ogg", Options(language="de"))
    store.set_status(running.id, Status.RUNNING)
    store.close()

    again = Store(tmp_path / "hush.db", tmp_path / "recordings")
    assert again.interrupt_unfinished() == 2
    jobs, total = again.list()
    assert total == 2 and {job.status for job in jobs} == {Status.INTERRUPTED}
    kept = again.get(queued.id)
    assert kept.filename == "passwd" and kept.audio.parent == tmp_path / "recordings"
    assert kept.audio.read_bytes() == media["wav"].read_bytes()
    assert again.get(running.id).options == Options(language="de")
    assert not list((tmp_path / "recordings").glob("*.partial"))


def test_options_are_stored_without_a_live_passs_draft(tmp_path, media):
    store = Store(tmp_path / "hush.db", tmp_path / "recordings")
    heard = (Segment(0.0, 1.0, "what the last pass heard"),)
    with media["wav"].open("rb") as source:
        job = store.add(source, "a.wav", Options(language="en", max_tokens=40, draft=heard))
    assert store.get(job.id).options == Options(language="en", max_tokens=40)
    store.close()


def test_search_words_never_reach_fts_as_syntax():
    assert match_expression('a "b" OR c*') == '"a"* "b"* "OR"* "c"*'
    assert match_expression("  ") == ""
