"""``/api/live``: live transcription over a WebSocket on real whisper-base, locked like the rest of the API."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time

import numpy as np
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from backend.audio import decode
from tests.support.real_weights import overlap

PARAGRAPH = (
    "The morning train was late again. Anna walked to the bakery and bought fresh bread. "
    "Her brother called to say the garden needs water. Tomorrow they will paint the blue fence."
)


@pytest.fixture(scope="module")
def live_server(start_server, base_converted):
    live = start_server(model=base_converted)
    live.wait_until_ready(300)
    return live


def socket_url(server, **query: str) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return server.url.replace("http://", "ws://") + "/api/live" + (f"?{params}" if params else "")


def pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def stream(socket: ClientConnection, samples: np.ndarray, speed: float = 4.0, chunk: float = 0.25) -> list[dict]:
    """Send ``samples`` in chunks, ``speed`` times faster than real time, then ``stop``; every message back."""
    messages: list[dict] = []

    def read() -> None:
        for text in socket:
            messages.append(json.loads(text))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    step = int(chunk * 16_000)
    for start in range(0, len(samples), step):
        socket.send(pcm(samples[start : start + step]))
        time.sleep(chunk / speed)
    socket.send(json.dumps({"type": "stop"}))
    reader.join(120)
    assert not reader.is_alive(), "the server never finished the session"
    return messages


def test_words_are_confirmed_while_speech_goes_on_then_the_rest_at_stop(live_server, speak):
    """The live text ends as close to what was said as the full pass Stop runs (whisper-base
    mishears this espeak-ng voice in places: "late" as "8", "blue fence" as "roof ends")."""
    spoken = speak(PARAGRAPH, pad_seconds=0.5)
    samples = decode(spoken)
    with connect(socket_url(live_server, token=live_server.token, language="en"), open_timeout=30) as socket:
        messages = stream(socket, samples, speed=1.0)
    updates = [m for m in messages if m["type"] == "update"]
    assert messages[-1]["type"] == "done"
    confirmed = [m["confirmed"] for m in messages if m.get("confirmed") is not None]
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(confirmed)), confirmed
    before_stop = max((len(m["confirmed"].split()) for m in updates), default=0)
    assert before_stop >= 6, f"only {before_stop} words were confirmed before Stop: {updates}"
    assert any(m["tentative"] for m in updates), "no tentative text was ever shown"
    with live_server.client() as client:
        upload = {"file": ("paragraph.wav", spoken.read_bytes())}
        full = client.post("/api/transcriptions", files=upload, data={"language": "en"})
    assert full.status_code == 200, full.text
    live, final = overlap(PARAGRAPH, messages[-1]["confirmed"]), overlap(PARAGRAPH, full.json()["text"])
    assert live >= 0.7 and live >= final - 0.1, (messages[-1]["confirmed"], full.json()["text"])


def test_language_auto_is_detected_not_taken_for_a_language_code(live_server, speak):
    samples = decode(speak("The museum will be closed on Monday for cleaning.", pad_seconds=0.5))
    with connect(socket_url(live_server, token=live_server.token, language="auto"), open_timeout=30) as socket:
        messages = stream(socket, samples)
    assert not [m for m in messages if m["type"] == "paused"], messages
    assert messages[-1]["type"] == "done" and messages[-1]["language"] == "en"
    assert overlap("The museum will be closed on Monday for cleaning.", messages[-1]["confirmed"]) >= 0.6, messages


def test_silence_is_not_transcribed(live_server):
    silence = np.zeros(16_000 * 6, np.float32)
    with connect(socket_url(live_server, token=live_server.token), open_timeout=30) as socket:
        messages = stream(socket, silence, speed=8.0)
    assert messages[-1] == {"type": "done", "confirmed": "", "tentative": "", "seconds": 6.0}


@pytest.mark.parametrize(
    ("query", "headers", "host"),
    [
        ({}, {}, None),
        ({"token": "wrong-token-0123456789"}, {}, None),
        ("token", {"Origin": "https://evil.example"}, None),
        ("token", {}, "evil.example"),
    ],
    ids=["no token", "wrong token", "foreign origin", "foreign host"],
)
def test_the_socket_is_refused_before_the_upgrade(random_server, query, headers, host):
    query = {"token": random_server.token} if query == "token" else query
    url = socket_url(random_server, **query)
    port = int(random_server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock, pytest.raises(InvalidStatus) as refused:
        # A page on another name that resolves to 127.0.0.1 (DNS rebinding) sends its own Host.
        connect(url.replace("127.0.0.1", host) if host else url, sock=sock, additional_headers=headers, open_timeout=10)
    assert refused.value.response.status_code == 403


def test_the_cookie_or_bearer_token_opens_it(random_server):
    cookie = {"Cookie": f"hush_token_{random_server.url.rsplit(':', 1)[1]}={random_server.token}"}
    bearer = {"Authorization": f"Bearer {random_server.token}"}
    for headers in (cookie, bearer):
        with connect(socket_url(random_server), additional_headers=headers, open_timeout=10) as socket:
            socket.send(json.dumps({"type": "stop"}))
            assert json.loads(socket.recv(30))["type"] == "done"


class StuckSession:
    """A live session whose pass never ends by itself: it says when it is cancelled."""

    language = None

    def __init__(self) -> None:
        self.fed = 0
        self.passing = threading.Event()
        self.cancelled = threading.Event()

    async def speech(self, _audio: np.ndarray) -> list[tuple[float, float]]:
        return []

    def feed(self, samples: np.ndarray) -> None:
        self.fed += len(samples)

    def due(self) -> bool:
        return self.fed > 0 and not self.passing.is_set()

    async def step(self, final: bool = False):
        import asyncio

        self.passing.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


def test_a_pass_under_way_is_dropped_when_the_page_goes(random_server, monkeypatch):
    """A dictation's preview socket is closed at the release: the pass it started must not keep
    the inference thread from the dictation's transcription."""
    from backend.web.routers import live as live_router
    from tests.support.helpers import wait_until

    stuck = StuckSession()
    given: list[threading.Event] = []
    monkeypatch.setattr(live_router, "live_session", lambda *args: given.append(args[-1]) or stuck)
    with connect(socket_url(random_server, token=random_server.token), open_timeout=30) as socket:
        socket.send(pcm(np.zeros(8000, np.float32)))
        wait_until(stuck.passing.is_set, 10, "a pass under way")
    wait_until(stuck.cancelled.is_set, 10, "the pass dropped once the page went")
    assert given[0].is_set()  # on the inference thread, a pass stops at its next decoding step
