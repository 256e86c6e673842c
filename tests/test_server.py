"""backend/server.py and ``python -m backend``: serving on loopback, a free port, a clean stop."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from backend.server import RemoteNotAllowed, Server
from backend.settings import Settings
from conftest import ROOT


def test_port_zero_picks_a_free_port_and_stop_releases_it(random_checkpoint, tmp_path):
    server = Server(Settings(model=str(random_checkpoint), port=0, data_dir=tmp_path))
    server.start()
    assert server.base_url == f"http://127.0.0.1:{server.port}/"
    assert server.url == f"{server.base_url}?token={server.token}" and len(server.token) >= 32
    assert (
        httpx.get(server.base_url + "api/health", headers={"Authorization": f"Bearer {server.token}"}).status_code
        == 200
    )
    assert httpx.get(server.base_url + "api/health").status_code == 401
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
            if match := re.search(r"Hush is listening on (http://127\.0\.0\.1:\d+/)\?token=([\w-]+)", line):
                url, token = match.groups()
                break
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        deadline = time.monotonic() + 120
        while client.get("api/health").json()["model"]["state"] != "ready":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        response = client.post("api/transcriptions", files={"file": media["webm"].open("rb")})
        assert response.status_code == 200 and response.json()["text"]
    finally:
        process.terminate()
        assert process.wait(30) == 0


def test_serving_beyond_loopback_needs_an_explicit_opt_in(random_checkpoint, tmp_path):
    with pytest.raises(RemoteNotAllowed, match="HUSH_ALLOW_REMOTE"):
        Server(Settings(model=str(random_checkpoint), host="0.0.0.0", data_dir=tmp_path))
