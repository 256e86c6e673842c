"""backend/server.py and ``python -m backend``: serving on loopback, a free port, a clean stop."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx

from backend.server import Server
from backend.settings import Settings
from conftest import ROOT


def test_port_zero_picks_a_free_port_and_stop_releases_it(random_checkpoint, tmp_path):
    server = Server(Settings(model=str(random_checkpoint), port=0, data_dir=tmp_path))
    server.start()
    assert server.url == f"http://127.0.0.1:{server.port}/"
    assert httpx.get(server.url + "api/health").status_code == 200
    server.stop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", server.port))  # free again


def test_python_m_backend_serves_the_api(random_checkpoint, tmp_path, media):
    env = {**os.environ, "HUSH_MODEL": str(random_checkpoint), "HUSH_DATA_DIR": str(tmp_path), "HUSH_PORT": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "backend"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in process.stdout:
            if match := re.search(r"Hush is listening on (http://127\.0\.0\.1:\d+/)", line):
                url = match.group(1)
                break
        deadline = time.monotonic() + 120
        while httpx.get(url + "api/health").json()["model"]["state"] != "ready":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        response = httpx.post(url + "api/transcriptions", files={"file": media["webm"].open("rb")}, timeout=120)
        assert response.status_code == 200 and response.json()["text"]
    finally:
        process.terminate()
        assert process.wait(30) == 0
