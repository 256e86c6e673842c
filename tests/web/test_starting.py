"""backend/web/starting.py: the socket is answered, under the app's rules, before the app is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import httpx
import pytest

from backend.settings import Settings
from backend.web.starting import Doorway, bind
from tests.support.helpers import ROOT

TOKEN = "doorway-token-0123456789"


@pytest.fixture
def doorway():
    door = Doorway(bind("127.0.0.1", 0), TOKEN, "openai/whisper-small", 1024, ("https://app.example",))
    door.start()
    yield door
    door.close()


def get(door: Doorway, path: str, **kwargs) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{door.port}{path}", timeout=10, **kwargs)


@pytest.mark.parametrize(
    "carry",
    [
        {"headers": {"Authorization": f"Bearer {TOKEN}"}},
        {"params": {"token": TOKEN}},
        {"cookies": {"hush_token_PORT": TOKEN}},
        {"headers": {"Authorization": f"Bearer {TOKEN}", "Origin": "https://app.example"}},
    ],
    ids=["bearer", "query", "cookie", "allowed origin"],
)
def test_health_says_loading_to_whoever_has_the_token(doorway, carry):
    if "cookies" in carry:
        carry = {"headers": {"Cookie": f"hush_token_{doorway.port}={TOKEN}"}}
    response = get(doorway, "/api/health", **carry)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["model"]["state"] == "loading"
    assert body["model"]["id"] == "openai/whisper-small" and body["max_upload_bytes"] == 1024


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong-token-0123456789"}, 401),
        ({"Authorization": f"Bearer {TOKEN}", "Host": "evil.example"}, 403),
        ({"Authorization": f"Bearer {TOKEN}", "Origin": "https://evil.example"}, 403),
    ],
    ids=["no token", "wrong token", "foreign host", "foreign origin"],
)
def test_the_apps_rules_hold_from_the_first_moment(doorway, headers, status):
    response = get(doorway, "/api/health", headers=headers)
    assert response.status_code == status and "detail" in response.json()
    assert "loading" not in response.text


def test_everything_else_is_asked_to_come_back_in_a_second(doorway):
    api = get(doorway, "/api/transcriptions", headers={"Authorization": f"Bearer {TOKEN}"})
    assert api.status_code == 503 and api.headers["retry-after"] == "1" and "starting" in api.json()["detail"]
    page = get(doorway, "/", params={"token": TOKEN})
    assert page.status_code == 503 and 'http-equiv="refresh"' in page.text


def test_the_app_takes_the_socket_over_without_refusing_anyone(doorway, random_checkpoint, tmp_path):
    """A request sent while the doorway hands over waits in the backlog and gets the app's answer."""
    from backend.web.server import Server

    settings = Settings(model=str(random_checkpoint), token=TOKEN, port=doorway.port, data_dir=tmp_path)
    server = Server(settings, doorway.sock)
    doorway.stop()
    answer: list[httpx.Response] = []
    waiting = threading.Thread(target=lambda: answer.append(get(doorway, "/api/health", params={"token": TOKEN})))
    waiting.start()
    server.start()
    waiting.join(30)
    try:
        assert answer and answer[0].status_code == 200
        assert answer[0].json()["model"]["detail"] != "Starting Hush…"  # the app's own answer
    finally:
        server.stop()


def test_python_m_backend_binds_and_answers_before_importing_the_web_app():
    """What runs before the doorway answers imports no FastAPI, uvicorn, pydantic or torch."""
    code = "import json, sys, backend.__main__; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert not {"fastapi", "uvicorn", "pydantic", "starlette", "torch", "numpy"} & set(json.loads(result.stdout))


def test_the_first_health_answer_names_the_model_that_will_run(tmp_path):
    """The model picked in the app last time (remembered in the data folder) is the one the server
    names from its very first answer, before the app or the engine is imported."""
    from backend.checkpoints import choice

    (tmp_path / choice.ACTIVE_MODEL_FILE).write_text("openai/whisper-tiny")
    env = {**os.environ, "HUSH_DATA_DIR": str(tmp_path), "HUSH_PORT": "0", "HUSH_TOKEN": TOKEN, "HF_HUB_OFFLINE": "1"}
    env.pop("HUSH_MODEL", None)
    server = subprocess.Popen([sys.executable, "-m", "backend"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().rsplit(" ", 1)[-1].strip()  # "Hush is listening on http://…/?token=…"
        first = httpx.get(url.replace("/?token=", "/api/health?token="), timeout=10)
        assert first.status_code == 200 and first.json()["model"]["id"] == "openai/whisper-tiny"
    finally:
        server.terminate()
        server.wait(30)
