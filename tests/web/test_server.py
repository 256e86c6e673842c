"""backend/web/server.py and ``python -m backend``: serving on loopback, a free port, a clean stop."""

from __future__ import annotations

import socket

import httpx
import pytest

from backend.settings import Settings
from backend.web.server import RemoteNotAllowed, Server


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


def test_python_m_backend_answers_at_once_then_serves_the_api(random_checkpoint, tmp_path, media, launch_backend):
    backend = launch_backend(random_checkpoint, tmp_path)
    health = backend.client.get("api/health").json()  # before torch has loaded
    assert health["status"] == "ok" and health["model"]["state"] in ("loading", "ready")
    backend.wait_until_ready()
    response = backend.client.post("api/transcriptions", files={"file": media["webm"].open("rb")})
    assert response.status_code == 200 and response.json()["text"]
    assert backend.stop()[0] == 0


def test_serving_beyond_loopback_needs_an_explicit_opt_in(random_checkpoint, tmp_path):
    with pytest.raises(RemoteNotAllowed, match="HUSH_ALLOW_REMOTE"):
        Server(Settings(model=str(random_checkpoint), host="0.0.0.0", data_dir=tmp_path))
