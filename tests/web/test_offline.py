"""Offline for real: with a model on disk, Hush transcribes in a process that has no network.

Where ``unshare`` can make a fresh network namespace (Linux, root or user namespaces),
the server runs in one that has nothing but loopback; elsewhere every connection
beyond loopback is refused inside the process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import huggingface_hub.constants
import pytest

from backend.checkpoints import locate
from tests.support.fake_hub import FakeHub
from tests.support.helpers import ROOT

TOKEN = "offline-test-token-0123456789"
#: Serves on loopback inside the namespace, transcribes one file, prints the result.
SCRIPT = """
import json, sys, httpx
from backend.web.server import Server
from backend.settings import Settings
server = Server(Settings(port=0, token={token!r}))
server.start()
status = server.app.state.models.wait_until_loaded(120)
with open(sys.argv[1], "rb") as audio:
    response = httpx.post(f"http://127.0.0.1:{{server.port}}/api/transcriptions", files={{"file": audio}},
                          headers={{"Authorization": "Bearer {token}"}}, timeout=120)
print(json.dumps({{"state": status.state, "detail": status.detail, "status": response.status_code,
                  "body": response.json()}}))
server.stop()
"""


def isolated() -> list[str] | None:
    """A command prefix that runs a program without any network, if this machine can."""
    unshare = shutil.which("unshare")
    if not unshare or not shutil.which("ip"):
        return None
    probe = subprocess.run([unshare, "--net", "--map-root-user", "true"], capture_output=True)
    if probe.returncode != 0:
        return None
    return [unshare, "--net", "--map-root-user", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]


def run_offline(env: dict[str, str], audio_path) -> dict:
    prefix = isolated()
    if prefix is None:
        pytest.skip("unshare cannot create a network namespace here; test_catalog covers the in-process guard")
    command = [*prefix, sys.executable, "-c", SCRIPT.format(token=TOKEN), str(audio_path)]
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_network_at_all_inside_the_namespace():
    prefix = isolated()
    if prefix is None:
        pytest.skip("unshare cannot create a network namespace here")
    probe = "import socket; socket.create_connection(('1.1.1.1', 443), timeout=3)"
    assert subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True).returncode != 0


def test_a_model_folder_transcribes_without_network(random_checkpoint, media, tmp_path):
    outcome = run_offline({"HUSH_MODEL": str(random_checkpoint), "HUSH_DATA_DIR": str(tmp_path)}, media["webm"])
    assert outcome["state"] == "ready" and outcome["status"] == 200
    assert outcome["body"]["text"].strip()


def test_a_downloaded_hub_model_transcribes_without_network(random_checkpoint, media, tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    hub = FakeHub({"hush-tests/tiny-whisper": random_checkpoint})
    try:
        locate.download("hush-tests/tiny-whisper", endpoint=hub.url)
    finally:
        hub.stop()
    env = {"HUSH_MODEL": "hush-tests/tiny-whisper", "HUSH_DATA_DIR": str(tmp_path), "HF_HUB_CACHE": str(cache)}
    outcome = run_offline(env, media["mp3"])
    assert outcome["state"] == "ready", outcome["detail"]
    assert outcome["status"] == 200 and outcome["body"]["text"].strip()


def test_no_model_and_no_network_is_a_503_that_says_how_to_get_one(media, tmp_path):
    env = {"HUSH_MODEL": "openai/whisper-small", "HUSH_DATA_DIR": str(tmp_path), "HF_HUB_CACHE": str(tmp_path / "hub")}
    outcome = run_offline(env, media["wav"])
    assert outcome["state"] == "missing" and outcome["status"] == 503
    assert "Connect to the internet once" in outcome["body"]["detail"]
    assert "HUSH_MODEL" in outcome["body"]["detail"]
