"""Nothing lost: concurrent uploads are all answered and stored; a killed server loses no recording."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from conftest import ROOT, encode

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


class Backend:
    """``python -m backend`` as a subprocess on ``data_dir``, with a known token."""

    def __init__(self, checkpoint: Path, data_dir: Path) -> None:
        self.token = "kill-test-token-0123456789"
        env = {
            **os.environ,
            "HUSH_MODEL": str(checkpoint),
            "HUSH_DATA_DIR": str(data_dir),
            "HUSH_TOKEN": self.token,
            "HUSH_PORT": "0",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in self.process.stdout:
            if match := re.search(r"Hush is listening on (http://127\.0\.0\.1:\d+/)", line):
                break
        else:
            pytest.fail("python -m backend did not print its URL")
        self.client = httpx.Client(
            base_url=match.group(1), headers={"Authorization": f"Bearer {self.token}"}, timeout=120
        )
        deadline = time.monotonic() + 120
        while self.client.get("api/health").json()["model"]["state"] != "ready":
            assert time.monotonic() < deadline
            time.sleep(0.2)

    def job(self, job_id: str) -> dict:
        return self.client.get(f"api/transcriptions/{job_id}").json()

    def wait(self, job_id: str, done, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while not done(job := self.job(job_id)):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        return job


def test_a_server_killed_mid_transcription_keeps_the_recording_and_the_job(random_checkpoint, media, tmp_path, figures):
    # Three minutes of changing tones: many 30 s windows, with five beams each, so the kill lands mid-job.
    t = np.arange(16_000 * 180) / 16_000
    tones = (0.3 * np.sin(2 * np.pi * (200 + 50 * np.floor(t)) * t)).astype(np.float32)
    long = encode(tones, 16_000, tmp_path / "lecture.flac", "flac").read_bytes()
    data_dir = tmp_path / "data"

    backend = Backend(random_checkpoint, data_dir)
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
        running = backend.wait(job_id, lambda job: job["status"] == "running" and job["progress"] > 0)
        assert running["status"] == "running", "the job finished before the kill: make the input longer"
        assert backend.job(waiting["id"])["status"] == "queued"
    finally:
        backend.process.send_signal(signal.SIGKILL)
        backend.process.wait(30)

    backend = Backend(random_checkpoint, data_dir)
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
        assert backend.wait(waiting["id"], lambda job: job["status"] not in ("queued", "running"))["status"] == "done"
        assert backend.client.post(f"api/transcriptions/{job_id}/retry").status_code == 202
        backend.wait(job_id, lambda job: job["status"] == "running")
        backend.client.post(f"api/transcriptions/{job_id}/cancel")  # retry works; no need to sit through it all
        assert backend.wait(job_id, lambda job: job["status"] != "running")["status"] == "cancelled"
    finally:
        backend.process.terminate()
        assert backend.process.wait(30) == 0
