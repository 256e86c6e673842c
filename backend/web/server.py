"""Run the app with uvicorn on a socket we bind ourselves (so port 0 yields a known free port)."""

from __future__ import annotations

import logging
import socket
import threading

import uvicorn

from backend.settings import Settings
from backend.web.access import LOOPBACK
from backend.web.app import create_app, shut_down
from backend.web.dependencies import Desktop
from backend.web.starting import Doorway, bind

log = logging.getLogger(__name__)


class RemoteNotAllowed(ValueError):
    """A non-loopback host without ``HUSH_ALLOW_REMOTE``."""


def refuse_remote_unless_allowed(settings: Settings) -> None:
    """``RemoteNotAllowed`` for a host beyond loopback without ``HUSH_ALLOW_REMOTE``."""
    if settings.host not in LOOPBACK and not settings.allow_remote:
        raise RemoteNotAllowed(
            f"Hush binds only loopback unless told otherwise: serving on {settings.host} lets anyone who can "
            "reach it try the API. Set HUSH_ALLOW_REMOTE=1 (and keep the token secret) if that is what you want."
        )


class Server:
    """The API server on its own socket; ``run()`` blocks, ``start()`` runs it in a thread.

    ``sock``: a socket already bound (and maybe answered meanwhile: ``starting.py``) to take over;
    ``desktop``: the window app's controls, for ``/api/desktop``."""

    def __init__(self, settings: Settings, sock: socket.socket | None = None, desktop: Desktop | None = None) -> None:
        refuse_remote_unless_allowed(settings)
        self.settings = settings
        self.socket = sock or bind(settings.host, settings.port)
        self.port: int = self.socket.getsockname()[1]
        self.app = create_app(settings, desktop)
        config = uvicorn.Config(self.app, log_level="info", timeout_graceful_shutdown=5, log_config=None)
        self._uvicorn = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def token(self) -> str:
        """The secret every request must carry (see backend/web/security.py)."""
        return self.settings.token

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``, without the token: for building API URLs."""
        host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
        return f"http://{host}:{self.port}/"

    @property
    def url(self) -> str:
        """The page's URL with the token, to open in a browser or window (it then lives in a cookie)."""
        return f"{self.base_url}?token={self.token}"

    def run(self) -> None:
        if self.settings.host not in LOOPBACK:
            log.warning("Hush is serving on %s: anyone who can reach this address can use it.", self.settings.host)
        self._uvicorn.run(sockets=[self.socket])

    def start(self, timeout: float = 30.0) -> None:
        """Serve on a background thread and return once requests are being accepted."""
        self._thread = threading.Thread(target=self.run, name="hush-server", daemon=True)
        self._thread.start()
        started = threading.Event()

        def poll() -> None:
            while not self._uvicorn.started and self._thread and self._thread.is_alive():
                threading.Event().wait(0.02)
            started.set()

        threading.Thread(target=poll, daemon=True).start()
        if not started.wait(timeout) or not self._uvicorn.started:
            raise RuntimeError("The Hush server did not start.")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the engine (the running job ends as ``interrupted``), finish open requests, release the
        port, and wait (briefly) until every job has recorded how it ended."""
        shut_down(self.app)
        self._uvicorn.should_exit = True
        if self._thread:
            self._thread.join(timeout)
        self.socket.close()
        if not self.app.state.jobs.wait_idle(timeout):
            log.warning("a transcription did not stop within %s s; the next start lists it as interrupted.", timeout)


def serve(settings: Settings, doorway: Doorway | None = None, desktop: Desktop | None = None) -> Server:
    """The app serving on a background thread, for ``python -m backend`` and the desktop launcher alike.

    ``doorway``: the socket already bound and answered while the app imported (``starting.py``):
    the app takes it over with its token and port, and requests waiting in its backlog are served."""
    if doorway is None:
        server = Server(settings, desktop=desktop)
    else:
        try:
            server = Server(
                settings.model_copy(update={"token": doorway.token, "port": doorway.port}), doorway.sock, desktop
            )
        except BaseException:
            doorway.close()
            raise
        doorway.stop()
    server.start()
    return server
