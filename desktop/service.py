"""The backend server on a background thread, so the window can open while torch and transformers import."""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from backend.settings import Settings
    from backend.web.dependencies import Desktop
    from backend.web.server import Server
    from backend.web.starting import Doorway

log = logging.getLogger(__name__)

HEALTH_PATH = "api/health"
#: Loopback requests must never go through an HTTP proxy from the environment.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServiceFailed(RuntimeError):
    """The server could not start; the message is meant for the user."""


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL, the unit browsers grant permissions to."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{parts.scheme}://{parts.hostname}:{port}"


def wait_for_health(base_url: str, token: str, timeout: float = 30.0) -> None:
    """Return once ``GET /api/health`` answers 200: the page will find the API when it loads."""
    request = urllib.request.Request(base_url + HEALTH_PATH, headers={"Authorization": f"Bearer {token}"})
    deadline = time.monotonic() + timeout
    while True:
        try:
            with _direct.open(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise ServiceFailed(f"The Hush server at {base_url} did not answer within {timeout:.0f} s.")
        time.sleep(0.05)


def port_is_free(host: str, port: int) -> bool:
    """Whether nobody listens on ``port``. Only asked on Windows: there SO_REUSEADDR, which the server
    sets, would bind over a live listener instead of failing."""
    if sys.platform != "win32":
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined]
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


class Service:
    """Starts ``backend.web.server.Server`` off the main thread and tells when (and where) it answers."""

    def __init__(self, settings: Settings, preferred_port: int | None = None, desktop: Desktop | None = None) -> None:
        self.settings = settings
        self.preferred_port = preferred_port
        self.desktop = desktop
        self._server: Server | None = None
        self._url: str | None = None
        self._error: ServiceFailed | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="hush-service", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def url(self) -> str | None:
        """The page's URL with the launch token (the page trades it for a cookie) once the server answers."""
        return self._url

    @property
    def base_url(self) -> str | None:
        """``http://127.0.0.1:PORT/`` once the server answers, for API calls (with ``token``)."""
        return self._server.base_url if self._url and self._server else None

    @property
    def token(self) -> str:
        return self.settings.token if self._server is None else self._server.token

    @property
    def port(self) -> int | None:
        return urlsplit(self._url).port if self._url else None

    def serves(self, url: str) -> bool:
        """Whether ``url`` belongs to our server: only our own page gets the microphone."""
        return self._url is not None and bool(url) and origin(url) == origin(self._url)

    def started(self, timeout: float | None = None) -> bool:
        """Whether the start-up has finished (either way) within ``timeout`` seconds."""
        return self._ready.wait(timeout)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def wait(self, timeout: float | None = None) -> str:
        """Block until the server answers; its URL, or ``ServiceFailed`` (also once ``stop()`` was called)."""
        if not self._ready.wait(timeout):
            raise ServiceFailed("The Hush server is still starting.")
        if self._stopping:
            raise ServiceFailed("Hush is closing.")
        if self._error or self._url is None:
            raise self._error or ServiceFailed("The Hush server stopped.")
        return self._url

    def stop(self) -> None:
        """Stop serving and release the port; safe at any point, even while the server is still starting."""
        with self._lock:
            self._stopping = True
            server = self._server
        self._ready.set()  # nobody may keep waiting for a server that will not come
        if server is not None:
            server.stop()

    def _run(self) -> None:
        try:
            started = time.perf_counter()
            doorway = self._doorway()  # /api/health answers from here on, while the app imports
            try:
                from backend.web.server import serve  # FastAPI and uvicorn; torch and transformers load later

                log.debug("backend imported in %.2f s", time.perf_counter() - started)
            except BaseException:
                if doorway is not None:
                    doorway.close()
                raise
            # Without a doorway (a host beyond loopback) it says why not.
            server = serve(self.settings, doorway, self.desktop)
            with self._lock:
                stopped = self._stopping
                if not stopped:
                    self._server = server
            if stopped:  # closed while it started
                server.stop()
                return
            wait_for_health(server.base_url, server.token)
            self._url = server.url
            log.info("server up after %.2f s", time.perf_counter() - started)
            print(f"Hush is running at {server.url}", flush=True)
        except ServiceFailed as error:
            self._error = error
        except Exception as error:  # a broken install or a taken port must reach the user, not kill a thread
            log.exception("the Hush server failed to start")
            self._error = ServiceFailed(f"The Hush server could not start: {error}")
        finally:
            self._ready.set()

    def _doorway(self) -> Doorway | None:
        """The server's socket, answered until the app takes it over: on the last port when it is free
        (same origin as last time), else on one the OS picks. ``None`` for a host beyond loopback that
        is not allowed: nothing is bound then."""
        from backend.web.access import LOOPBACK
        from backend.web.starting import Doorway, bind

        settings, preferred = self.settings, self.preferred_port
        if settings.host not in LOOPBACK and not settings.allow_remote:
            return None
        sock = None
        if preferred and settings.port == 0 and port_is_free(settings.host, preferred):
            try:
                sock = bind(settings.host, preferred)
            except OSError as error:
                log.info("port %d is taken (%s); using another", preferred, error)
        doorway = Doorway.for_settings(sock or bind(settings.host, settings.port), settings)
        doorway.start()
        return doorway
