"""Real transcription servers for the remote engine's tests, and a proxy that puts faults between.

- ``faster-whisper-server==0.0.3`` (PyPI, MIT): a third-party OpenAI-compatible FastAPI server on
  faster-whisper. Its wheel is downloaded once (sha256-checked) and unpacked into the test cache;
  it runs on the test environment's own faster-whisper, CTranslate2, FastAPI and uvicorn (all
  already in the test extra). Installing it there would also pull ``uvicorn[standard]``
  (uvloop, httptools), which uvicorn then picks for Hush's own server too: Hush would be tested
  on another HTTP stack than users run.
- ``FaultProxy``: forwards to a real server, and answers a scripted fault instead where the test
  says so (a 500, an HTML page, a 401, a redirect, a held or cut connection). It records what it
  was sent, so a test can count requests and see which key went where.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.support.helpers import wait_until

FWS_VERSION = "0.0.3"
FWS_WHEEL = f"faster_whisper_server-{FWS_VERSION}-py3-none-any.whl"
FWS_SHA256 = "d83e025134c595c40783e54092d58bcfa482c251b085bec73f8080b9204cc4c1"


def cache_dir() -> Path:
    return Path(os.environ.get("HUSH_TEST_CACHE", Path.home() / ".cache" / "hush-test-peers"))


def faster_whisper_server_path() -> Path:
    """The unpacked faster-whisper-server package, fetched with pip once and checked by its sha256."""
    target = cache_dir() / f"faster-whisper-server-{FWS_VERSION}"
    if (target / "faster_whisper_server" / "__main__.py").is_file():
        return target
    downloads = cache_dir() / "wheels"
    downloads.mkdir(parents=True, exist_ok=True)
    wheel = downloads / FWS_WHEEL
    if not wheel.is_file():
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(downloads),
                   f"faster-whisper-server=={FWS_VERSION}"]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not wheel.is_file():
            reason = f"faster-whisper-server {FWS_VERSION} could not be downloaded: {result.stderr[-500:]}"
            pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    with open(wheel, "rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    assert digest == FWS_SHA256, f"{wheel} has sha256 {digest}, not the published {FWS_SHA256}"
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(partial)
    partial.replace(target)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PeerServer:
    """faster-whisper-server serving a CTranslate2 folder on 127.0.0.1 from a model config (its
    ``config.py``): the folder as ``whisper-1`` (the model name OpenAI clients send), int8 on one
    thread, greedy, so that two of them share this machine's two cores and CI stays quick."""

    def __init__(self, model: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        config = cache_dir() / f"fws-{self.port}.yaml"
        entry = {"name": "whisper-1", "path": str(model), "model_options": {"compute_type": "int8", "cpu_threads": 1},
                 "transcribe_options": {"beam_size": 1}, "translate_options": {"beam_size": 1}}  # fmt: skip
        config.write_text(json.dumps({"models": [entry]}))  # JSON is YAML
        env = {**os.environ, "PYTHONPATH": str(faster_whisper_server_path())}
        command = [sys.executable, "-m", "faster_whisper_server", "--config", str(config), "--host", "127.0.0.1",
                   "--port", str(self.port)]  # fmt: skip
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_until(self._up, 60, "faster-whisper-server to answer /health", ignoring=(httpx.TransportError,))

    def _up(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"faster-whisper-server exited: {self.process.stderr.read()[-2000:]}")
        return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


@pytest.fixture(scope="session")
def peer_factory() -> Callable[[Path], PeerServer]:
    """``peer_factory(ct2_folder)`` → a running faster-whisper-server, killed at the end of the session."""
    started: list[PeerServer] = []

    def start(model: Path) -> PeerServer:
        started.append(PeerServer(model))
        return started[-1]

    yield start
    for server in started:
        server.kill()


@pytest.fixture(scope="session")
def fws_peer(peer_factory, base_ct2) -> PeerServer:
    """faster-whisper-server on real whisper-base."""
    return peer_factory(base_ct2)


@pytest.fixture(scope="session")
def fws_second_peer(peer_factory, base_ct2) -> PeerServer:
    """Another one, for work split between two servers."""
    return peer_factory(base_ct2)


# -- faults ------------------------------------------------------------------------------------
@contextmanager
def self_signed_server(folder: Path) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 with a certificate nobody vouches for (as a box set up in a hurry
    has), answering every GET with an empty model list: its base URL (``https://127.0.0.1:PORT/v1``)."""
    key, certificate = folder / "key.pem", folder / "certificate.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)  # fmt: skip

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            FaultProxy.send(self, 200, b'{"data": []}', "application/json")

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    server.handle_error = lambda *_: None  # the client hanging up on the certificate is the point
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


class FaultProxy:
    """An HTTP server on 127.0.0.1 that forwards every request to ``upstream`` (a base URL such as
    ``http://127.0.0.1:PORT``), except transcription requests while ``faults`` has entries: each
    takes the next one. Faults: ``"400"`` (a form the server does not give), ``"500"``, ``"401"``
    (repeating the key, as OpenAI's API does),
    ``"html"`` (200 with a web page), ``"redirect:<url>"`` (307 there), ``"cut"`` (the connection
    closed without an answer), ``"hold"`` (waits until ``release`` is set, then forwards)."""

    def __init__(self, upstream: str, faults: list[str] | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults = list(faults or [])
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Authorization)
        self.arrived = threading.Event()  # a transcription request came in
        self.release = threading.Event()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                proxy.handle(self, b"")

            def do_POST(self) -> None:
                proxy.handle(self, self.rfile.read(int(self.headers.get("Content-Length", 0))))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *_: None  # a cut connection is the point, not news
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def transcriptions(self) -> int:
        """How many transcription requests reached the proxy."""
        return sum(1 for method, path, _ in self.requests if method == "POST" and "/audio/" in path)

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        transcription = handler.command == "POST" and "/audio/" in handler.path
        with self.lock:
            self.requests.append((handler.command, handler.path, handler.headers.get("Authorization")))
            fault = self.faults.pop(0) if transcription and self.faults else None
        if transcription:
            self.arrived.set()
        if fault == "hold":
            self.release.wait(120)
            fault = None
        if fault == "cut":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None:
            self.answer_fault(handler, fault)
            return
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "content-length")}
        try:
            response = httpx.request(handler.command, self.upstream + handler.path, headers=headers,
                                     content=body, timeout=600)  # fmt: skip
        except httpx.TransportError:  # the server died: so does this connection
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send(handler, response.status_code, response.content, response.headers.get("content-type", ""))

    def answer_fault(self, handler: BaseHTTPRequestHandler, fault: str) -> None:
        if fault == "500":
            self.send(handler, 500, b'{"detail": "CUDA out of memory (injected)"}', "application/json")
        elif fault == "401":
            said = f"Incorrect API key provided: {handler.headers.get('Authorization', '').removeprefix('Bearer ')}"
            self.send(handler, 401, json.dumps({"error": {"message": said}}).encode(), "application/json")
        elif fault == "400":
            said = b'{"error": {"message": "Unsupported response_format (injected)"}}'
            self.send(handler, 400, said, "application/json")
        elif fault == "html":
            self.send(handler, 200, b"<!doctype html><html><body>Welcome to nginx!</body></html>", "text/html")
        elif fault.startswith("redirect:"):
            self.send(handler, 307, b"", "text/plain", {"Location": fault.removeprefix("redirect:")})
        else:
            raise AssertionError(f"unknown fault {fault}")

    @staticmethod
    def send(
        handler: BaseHTTPRequestHandler, code: int, body: bytes, kind: str, extra: dict[str, str] | None = None
    ) -> None:
        handler.send_response(code)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
