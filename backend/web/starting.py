"""The server's first second: its socket bound and ``/api/health`` answered while the app imports.

Importing FastAPI, uvicorn and pydantic takes seconds on a slow machine (torch and
transformers load later still, behind the "loading" state). The page, the
desktop window and scripts poll ``/api/health``, so from the first moment the socket is
bound and answered with the standard library alone: ``/api/health`` says the model is
loading, anything else asks to come back in a second (503, ``Retry-After``; the page gets a
"Starting Hush…" that reloads itself). The same rules as the app's apply (``access.py``).
When the app is ready it takes the socket over; requests that arrive in between wait in the
socket's backlog, none is refused.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from platformdirs import user_data_dir

from backend import __version__
from backend.checkpoints import choice
from backend.web.access import LOOPBACK, bearer, cookie, cookie_name, matches, refusal

if TYPE_CHECKING:
    from backend.settings import Settings

#: Seconds a client may take to send its request head (the doorway answers one at a time).
READ_SECONDS = 2.0
MAX_HEAD = 64 * 1024
STARTING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="1">
<title>Starting Hush…</title></head>
<body style="font:16px system-ui,sans-serif;margin:20vh auto;max-width:30rem">Starting Hush…</body></html>
"""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; port 0 lets the OS pick a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if sys.platform == "win32":  # SO_REUSEADDR there lets a second server take a port in use
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
    else:  # a restart may rebind while old connections sit in TIME_WAIT
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@dataclass
class Doorway:
    """Answers on ``sock`` from ``start()`` until ``stop()``, one request at a time."""

    sock: socket.socket
    token: str
    model_id: str = ""
    max_upload_bytes: int = 0
    allowed_origins: tuple[str, ...] = ()
    allow_remote: bool = False
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @classmethod
    def for_settings(cls, sock: socket.socket, settings: Settings) -> Doorway:
        """A doorway on ``sock`` answering as the app with these settings will."""
        origins = tuple(settings.allowed_origins)
        model = choice.for_settings(settings)
        return cls(sock, settings.token, model, settings.max_upload_bytes, origins, settings.allow_remote)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    @property
    def url(self) -> str:
        """The page's address with the token, as ``Server.url`` gives it."""
        host = self.sock.getsockname()[0]
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/?token={self.token}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="hush-starting", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop answering; the socket stays open and listening for the app."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def close(self) -> None:
        """Stop answering and release the port (the app could not start)."""
        self.stop()
        self.sock.close()

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        try:
            while not self._stopping.is_set():
                try:
                    connection, _ = self.sock.accept()
                except TimeoutError:
                    continue
                with connection:
                    self._answer(connection)
        finally:
            self.sock.settimeout(None)

    def _answer(self, connection: socket.socket) -> None:
        connection.settimeout(READ_SECONDS)
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < MAX_HEAD:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                head += chunk
            status, kind, body, extra = self.response(head.split(b"\r\n\r\n")[0].decode("latin-1"))
            reason = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable"}[status]
            lines = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {kind}", f"Content-Length: {len(body)}",
                     "Cache-Control: no-store", "Connection: close", *extra]  # fmt: skip
            connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        except OSError:  # the client went away or never finished its request: nothing to answer
            return

    def response(self, head: str) -> tuple[int, str, bytes, list[str]]:
        """Status, content type, body and extra headers for a request ``head`` (request line and headers)."""
        request, *lines = head.split("\r\n")
        method, target = [*request.split(" "), "", ""][:2]
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        address = urlsplit(target)
        api = address.path.startswith(("/api/", "/v1/"))
        if reason := refusal(headers, self.port, self.allowed_origins, self.allow_remote):
            return problem(403, reason)
        token = dict(parse_qsl(address.query)).get("token")
        if not any(matches(self.token, t) for t in (token, bearer(headers), cookie(headers, cookie_name(self.port)))):
            return problem(401, "This Hush server needs its access token.", ["WWW-Authenticate: Bearer"])
        if method == "GET" and address.path == "/api/health":
            model = {"id": self.model_id, "state": "loading", "detail": "Starting Hush…", "languages": []}
            health = {"status": "ok", "model": model, "version": __version__, "max_upload_bytes": self.max_upload_bytes}
            return 200, "application/json", json.dumps(health).encode(), []
        if api:
            return problem(503, "Hush is starting; try again in a moment.", ["Retry-After: 1"])
        return 503, "text/html; charset=utf-8", STARTING_PAGE.encode(), ["Retry-After: 1"]


def problem(status: int, detail: str, extra: list[str] | None = None) -> tuple[int, str, bytes, list[str]]:
    """An error as the app words them: ``{"detail": "…"}``."""
    return status, "application/json", json.dumps({"detail": detail}).encode(), extra or []


def from_environment() -> Doorway | None:
    """A started doorway on the address ``HUSH_HOST``/``HUSH_PORT`` name, with ``HUSH_TOKEN`` (or a
    new random token); ``None`` where those settings need the full validation of ``Settings``
    (anything unusual: the app then binds and reports the problem itself)."""
    env = os.environ
    host, token = env.get("HUSH_HOST", "127.0.0.1"), env.get("HUSH_TOKEN") or secrets.token_urlsafe(32)
    allow_remote = env.get("HUSH_ALLOW_REMOTE", "").strip().lower()
    try:
        port, upload_mb = int(env.get("HUSH_PORT") or 0), int(env.get("HUSH_MAX_UPLOAD_MB") or 1024)
    except ValueError:
        return None
    if allow_remote not in ("", "0", "false", "no", "off") or host not in LOOPBACK or len(token) < 16:
        return None
    if not 0 <= port <= 65535 or upload_mb <= 0:
        return None
    origins = tuple(o.strip().rstrip("/") for o in env.get("HUSH_ALLOWED_ORIGINS", "").split(",") if o.strip())
    try:
        sock = bind(host, port)
    except OSError:
        return None
    data_dir = Path(env.get("HUSH_DATA_DIR") or user_data_dir("Hush", appauthor=False))  # as Settings.data_dir
    model = choice.chosen_model(env.get("HUSH_MODEL"), data_dir)
    doorway = Doorway(sock, token, model, upload_mb * 1024 * 1024, origins)
    doorway.start()
    return doorway
