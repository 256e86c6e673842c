"""Nothing lost: concurrent uploads are all answered and stored; a killed server loses no recording."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from tests.support.media import encode

CONCURRENT_UPLOADS = 20


def test_twenty_concurrent_uploads_are_all_answered_and_stored(random_server, media, figures):
    kinds = ["webm", "ogg", "wav", "mp3", "m4a", "flac", "mp4", "mkv"]
    uploads = [(f"load-{i}.{kinds[i % len(kinds)]}", media[kinds[i % len(kinds)]].read_bytes()) for i in range(20)]
    with random_server.client() as client:

        def send(upload: tuple[str, bytes]) -> httpx.Response:
            return client.post("/api/transcriptions", files={"file": upload})

        with ThreadPoolExecutor(CONCURRENT_UPLOADS) as pool:
            responses = list(pool.map(send, uploads))
        answered = sum(r.status_code == 200 and bool(r.json()["text"]) for r in responses)
        stored = 0
        for (name, data), response in zip(uploads, responses):
            job = client.get(f"/api/transcriptions/{response.json()['id']}").json()
            audio = client.get(f"/api/transcriptions/{job['id']}/audio").content
            stored += job["status"] == "done" and job["filename"] == name and audio == data
    figures["concurrent uploads answered"] = f"{answered}/{CONCURRENT_UPLOADS}"
    figures["concurrent uploads stored"] = f"{stored}/{CONCURRENT_UPLOADS}"
    assert answered == stored == CONCURRENT_UPLOADS


def long_tones(path: Path, seconds: int) -> bytes:
    """Changing tones: with the random checkpoint, many 30 s windows that each decode to the token limit."""
    t = np.arange(16_000 * seconds) / 16_000
    tones = (0.3 * np.sin(2 * np.pi * (200 + 50 * np.floor(t)) * t)).astype(np.float32)
    return encode(tones, 16_000, path, "flac").read_bytes()


def test_a_server_killed_mid_transcription_keeps_the_recording_and_the_job(
    random_checkpoint, media, tmp_path, figures, launch_backend
):
    long = long_tones(tmp_path / "lecture.flac", 180)  # with five beams a window, the kill lands mid-job
    data_dir = tmp_path / "data"

    backend = launch_backend(random_checkpoint, data_dir)
    backend.wait_until_ready()
    try:
        short = backend.client.post("api/transcriptions", files={"file": ("memo.webm", media["webm"].read_bytes())})
        assert short.status_code == 200
        queued = backend.client.post(
            "api/transcriptions",
            params={"wait": "false"},
            files={"file": ("lecture.flac", long)},
            data={"beam_size": 5},
        )
        assert queued.status_code == 202
        job_id = queued.json()["id"]
        waiting = backend.client.post(
            "api/transcriptions", params={"wait": "false"}, files={"file": ("next.webm", media["webm"].read_bytes())}
        ).json()
        running = backend.wait_for_job(job_id, lambda job: job["status"] == "running" and job["progress"] > 0)
        assert running["status"] == "running", "the job finished before the kill: make the input longer"
        assert backend.job(waiting["id"])["status"] == "queued"
    finally:
        backend.stop(signal.SIGKILL)

    backend = launch_backend(random_checkpoint, data_dir)
    backend.wait_until_ready()
    try:
        listed = {job["id"]: job for job in backend.client.get("api/transcriptions").json()["items"]}
        assert listed[short.json()["id"]]["status"] == "done"
        assert listed[job_id]["status"] == listed[waiting["id"]]["status"] == "interrupted"
        assert "stopped" in listed[job_id]["error"]
        recovered = (backend.client.get(f"api/transcriptions/{job_id}/audio").content == long) + (
            backend.client.get(f"api/transcriptions/{waiting['id']}/audio").content == media["webm"].read_bytes()
        )
        figures["unfinished recordings recovered after SIGKILL (running + queued)"] = f"{recovered}/2"
        assert recovered == 2
        assert backend.client.post(f"api/transcriptions/{waiting['id']}/retry").status_code == 202
        ended = backend.wait_for_job(waiting["id"], lambda job: job["status"] not in ("queued", "running"))
        assert ended["status"] == "done"
        assert backend.client.post(f"api/transcriptions/{job_id}/retry").status_code == 202
        backend.wait_for_job(job_id, lambda job: job["status"] == "running")
        backend.client.post(f"api/transcriptions/{job_id}/cancel")  # retry works; no need to sit through it all
        assert backend.wait_for_job(job_id, lambda job: job["status"] != "running")["status"] == "cancelled"
    finally:
        assert backend.stop()[0] == 0


def test_sigterm_mid_transcription_exits_at_once_and_keeps_the_job_for_a_retry(
    random_checkpoint, tmp_path, figures, launch_backend
):
    long = long_tones(tmp_path / "lecture.flac", 600)  # ten minutes: would run for minutes
    data_dir = tmp_path / "data"
    backend = launch_backend(random_checkpoint, data_dir)
    backend.wait_until_ready()
    job_id = backend.client.post(
        "api/transcriptions", params={"wait": "false"}, files={"file": ("lecture.flac", long)}, data={"beam_size": 5}
    ).json()["id"]
    queued = backend.client.post(
        "api/transcriptions", params={"wait": "false"}, files={"file": ("next.flac", long)}
    ).json()["id"]
    backend.wait_for_job(job_id, lambda job: job["status"] == "running" and job["progress"] > 0)
    code, seconds = backend.stop(signal.SIGTERM)
    figures["seconds from SIGTERM to exit, mid-transcription"] = round(seconds, 2)
    assert code == 0
    assert seconds <= 2.0, "".join(backend.output[-20:])

    backend = launch_backend(random_checkpoint, data_dir)
    backend.wait_until_ready()
    try:
        for stopped in (job_id, queued):
            job = backend.job(stopped)
            assert job["status"] == "interrupted" and "stopped" in job["error"], job
            assert backend.client.get(f"api/transcriptions/{stopped}/audio").content == long
        assert backend.client.post(f"api/transcriptions/{queued}/retry").status_code == 202
        backend.wait_for_job(queued, lambda job: job["status"] == "running")
    finally:
        assert backend.stop()[0] == 0
