"""``/api/engines`` and jobs sent to servers through Hush's API: the history stays here, the key stays secret."""

from __future__ import annotations

import json
import logging
import stat
import threading
import time

import numpy as np
import pytest
from websockets.sync.client import connect

from backend.engine.servers import ENGINES_FILE
from tests.engine.test_real_weights import ENGLISH
from tests.support.helpers import wait_until
from tests.support.peers import FaultProxy, free_port, self_signed_server
from tests.support.real_weights import overlap

KEY = "sk-hush-test-0123456789abcdef"
NO_MODEL = "/nonexistent/whisper-model"  # a local model that is not there: nothing may need it


def root(url: str) -> str:
    return url.removesuffix("/").removesuffix("/v1")


@pytest.fixture
def client_server(start_server):
    """A Hush whose own model is missing: only a server can do its work."""
    live = start_server(model=NO_MODEL)
    with live.client() as client:
        yield live, client


def post_clip(client, path, **data):
    return client.post("/api/transcriptions", files={"file": ("clip.wav", path.read_bytes())}, data=data)


def test_an_upload_is_transcribed_by_the_server_and_kept_here(client_server, fws_peer, speak):
    live, client = client_server
    chosen = client.put("/api/engines", json={"kind": "servers", "servers": [{"url": fws_peer.url}]})
    assert chosen.status_code == 200, chosen.text
    health = client.get("/api/health").json()
    assert health["remote"] and health["engine"] == f"Server: 127.0.0.1:{fws_peer.port}"
    assert health["model"]["state"] == "ready"
    response = post_clip(client, speak(ENGLISH[0]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert overlap(ENGLISH[0], body["text"]) >= 0.8, body["text"]
    assert body["model"] == f"whisper-1 on 127.0.0.1:{fws_peer.port}"
    stored = client.get(f"/api/transcriptions/{body['id']}").json()
    assert stored["status"] == "done" and stored["text"] == body["text"]
    assert client.get(f"/api/transcriptions/{body['id']}/audio").status_code == 200, "the recording is kept here"
    assert live.models.model_id == NO_MODEL, "no local model was switched to or loaded"


def test_the_key_is_stored_owner_only_and_never_shown(client_server, hush_peer, speak, caplog):
    live, client = client_server
    proxy = FaultProxy(root(hush_peer.url))
    caplog.set_level(logging.DEBUG)
    server = {"url": proxy.url, "key": hush_peer.token, "model": "whisper-1", "concurrency": 2}
    chosen = client.put("/api/engines", json={"kind": "servers", "servers": [server]})
    assert chosen.status_code == 200, chosen.text
    response = post_clip(client, speak(ENGLISH[1]))
    assert response.status_code == 200, response.text
    assert any(s["words"] for s in response.json()["segments"]), "a Hush server gives words"
    assert {auth for _, _, auth in proxy.requests} == {f"Bearer {hush_peer.token}"}
    path = live.server.settings.data_dir / ENGINES_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert hush_peer.token in path.read_text()
    engines = client.get("/api/engines").json()
    assert engines["servers"][0]["has_key"] is True
    seen = [client.get(p).text for p in ("/api/engines", "/api/health", "/", "/index.html", "/openapi.json")]
    seen += [response.text, chosen.text, client.get("/api/transcriptions").text, caplog.text]
    assert not [text for text in seen if hush_peer.token in text]
    # sent back without a key, a known server keeps its own
    kept = {**engines["servers"][0], "key": None}
    assert client.put("/api/engines", json={"kind": "servers", "servers": [kept]}).status_code == 200
    assert hush_peer.token in path.read_text()
    proxy.stop()


def test_the_choice_is_remembered_for_the_next_launch(start_server, fws_peer, tmp_path):
    first = start_server(model=NO_MODEL, data_dir=tmp_path)
    with first.client() as client:
        servers = [{"url": fws_peer.url, "concurrency": 3, "key": KEY}]
        assert client.put("/api/engines", json={"kind": "servers", "servers": servers}).status_code == 200
    later = start_server(model=NO_MODEL, data_dir=tmp_path)
    with later.client() as client:
        engines = client.get("/api/engines").json()
        assert engines["kind"] == "servers" and not engines["from_environment"]
        assert engines["servers"][0]["concurrency"] == 3 and engines["servers"][0]["has_key"]
        assert client.get("/api/health").json()["remote"]


def test_plain_http_to_another_computer_is_refused_unless_allowed(client_server):
    _, client = client_server
    server = {"url": "http://gpu-box.example:8000/v1"}
    refused = client.put("/api/engines", json={"kind": "servers", "servers": [server]})
    assert refused.status_code == 422
    assert "unencrypted" in refused.json()["detail"] and "https" in refused.json()["detail"]
    allowed = client.put("/api/engines", json={"kind": "servers", "servers": [{**server, "allow_unencrypted": True}]})
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["where"] == "Server: gpu-box.example:8000"
    back = client.put("/api/engines", json={"kind": "local", "servers": []})
    assert back.json()["where"] == "This computer"


def test_the_test_button_reports_the_answer_or_what_is_wrong(client_server, fws_peer, hush_peer, speak):
    _, client = client_server
    client.put("/api/engines", json={"kind": "servers", "servers": [{"url": fws_peer.url}]})
    assert post_clip(client, speak(ENGLISH[2])).status_code == 200  # the newest recording is the test clip
    ok = client.post("/api/engines/test", json={"url": fws_peer.url}).json()
    assert ok["ok"] and ok["seconds"] > 0 and ok["timed_words"] is False, ok
    assert overlap(ENGLISH[2], ok["text"]) >= 0.8 and ok["models"] is None, ok
    hush = client.post("/api/engines/test", json={"url": hush_peer.url + "v1", "key": hush_peer.token}).json()
    assert hush["ok"] and hush["timed_words"] and hush["models"], hush
    wrong = client.post("/api/engines/test", json={"url": hush_peer.url + "v1", "key": "wrong-key-0123456789"})
    assert not wrong.json()["ok"] and "401" in wrong.json()["detail"] and "API key" in wrong.json()["detail"]
    gone = client.post("/api/engines/test", json={"url": f"http://127.0.0.1:{free_port()}/v1"}).json()
    assert not gone["ok"] and "cannot be reached" in gone["detail"], gone
    path = client.post("/api/engines/test", json={"url": root(fws_peer.url)}).json()
    assert not path["ok"] and "check the base URL" in path["detail"], path


def test_a_certificate_nobody_vouches_for_is_named(client_server, tmp_path):
    _, client = client_server
    with self_signed_server(tmp_path) as url:
        answer = client.post("/api/engines/test", json={"url": url}).json()
    assert not answer["ok"], answer
    assert "secure connection to 127.0.0.1" in answer["detail"] and "certificate" in answer["detail"], answer


def test_hush_engine_sets_the_server_for_the_launch(start_server, fws_peer):
    """No local model anywhere, none loaded: the server is the engine from the first request."""
    live = start_server(model=NO_MODEL, engine=fws_peer.url)
    with live.client() as client:
        health = client.get("/api/health").json()
        assert health["model"]["state"] == "ready" and health["remote"], health
        assert type(live.models.current).__name__ == "RemoteEngine"
        engines = client.get("/api/engines").json()
        assert engines["from_environment"] and engines["kind"] == "servers"
        refused = client.put("/api/engines", json={"kind": "local", "servers": []})
        assert refused.status_code == 409 and "HUSH_ENGINE" in refused.json()["detail"]
        assert not engines["live"] and "not a Hush server" in engines["live_detail"]
        assert not client.get("/api/engines").json()["live"]


def test_an_unusable_hush_engine_is_named_in_the_health_answer(start_server):
    live = start_server(model=NO_MODEL, engine="http://gpu-box.example:8000/v1")
    with live.client() as client:
        model = client.get("/api/health").json()["model"]
        assert model["state"] == "error" and model["detail"].startswith("HUSH_ENGINE: ") and "https" in model["detail"]
        refused = client.post("/api/transcriptions", files={"file": ("clip.wav", b"RIFF....WAVE")})
        assert refused.status_code == 503 and "HUSH_ENGINE" in refused.json()["detail"]


def pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def live_messages(live, samples: np.ndarray) -> list[dict]:
    """Stream ``samples`` into ``/api/live`` at four times real time, then stop; every message back."""
    url = live.url.replace("http://", "ws://") + "/api/live"
    messages: list[dict] = []
    with connect(url, additional_headers={"Authorization": f"Bearer {live.token}"}) as socket:
        reader = threading.Thread(target=lambda: messages.extend(json.loads(m) for m in socket), daemon=True)
        reader.start()
        step = 4000
        for start in range(0, len(samples), step):
            socket.send(pcm(samples[start : start + step]))
            time.sleep(0.25 / 4)
        socket.send(json.dumps({"type": "stop"}))
        reader.join(120)
    return messages


def test_live_text_is_relayed_to_a_hush_server(start_server, hush_peer, hear):
    live = start_server(model=NO_MODEL, engine=hush_peer.url + "v1", engine_key=hush_peer.token)
    with live.client() as client:
        wait_until(lambda: client.get("/api/engines").json()["live"], 30, "the Hush server to be found")
    messages = live_messages(live, hear(ENGLISH[0], pad_seconds=1.0))
    assert messages and messages[-1]["type"] == "done", messages
    assert overlap(ENGLISH[0], messages[-1]["confirmed"] + " " + messages[-1].get("tentative", "")) >= 0.6, messages
    assert any(m["type"] == "update" for m in messages[:-1]), "text came while the audio did"


def test_live_text_with_another_server_is_off_with_a_sentence(start_server, fws_peer, hear):
    live = start_server(model=NO_MODEL, engine=fws_peer.url)
    messages = live_messages(live, hear(ENGLISH[0]))
    assert messages[0]["type"] == "paused" and "only Hush serves live text" in messages[0]["detail"]
    wait_until(lambda: messages[-1]["type"] == "done", 10, "the session to end")


def test_a_job_the_server_refuses_keeps_the_servers_sentence(client_server, fws_peer, speak):
    _, client = client_server
    proxy = FaultProxy(root(fws_peer.url), ["401"])
    server = {"url": proxy.url, "key": "sk-wrong-0123456789abcdef", "model": "whisper-1", "concurrency": 1}
    assert client.put("/api/engines", json={"kind": "servers", "servers": [server]}).status_code == 200
    queued = client.post(
        "/api/transcriptions?wait=false", files={"file": ("clip.wav", speak(ENGLISH[0]).read_bytes())}
    ).json()
    job = wait_until(
        lambda: (j := client.get(f"/api/transcriptions/{queued['id']}").json())["status"] == "failed" and j,
        120,
        "the refused job to fail",
    )
    assert "refused the request (401" in job["error"] and "Check the API key" in job["error"]
    assert not job["error"].startswith(("The transcription failed", "RemoteFailed")), job["error"]
    proxy.stop()
