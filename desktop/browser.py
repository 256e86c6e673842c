"""``--browser``: the same server, shown in the system browser (development, or where no web view works)."""

from __future__ import annotations

import logging
import signal
import threading
import webbrowser
from typing import Any

from backend.web.schemas import IndicatorState
from desktop.controls import Controls
from desktop.service import Service, ServiceFailed

log = logging.getLogger(__name__)


class BrowserSurface:
    """The browser as ``Controls`` sees it: a second launch opens the page again, Quit stops serving."""

    tray = False

    def __init__(self, url: str, stop: threading.Event) -> None:
        self.url = url
        self.stop = stop

    def bring_to_front(self) -> None:
        webbrowser.open(self.url)

    def close(self) -> None:
        self.stop.set()

    def dictate(self, action: str) -> None:
        raise ValueError("Dictation records through Hush's own window: start Hush without --browser to dictate.")

    def set_clipboard(self, text: str) -> None:
        raise ValueError("Hush in the browser cannot reach the clipboard.")

    def get_clipboard(self) -> str | None:
        raise ValueError("Hush in the browser cannot reach the clipboard.")

    def indicate(
        self, text: str | None, seconds: float | None = None, *, hint: str | None = None, level: float | None = None
    ) -> None:
        if text and level is None:  # no indicator window here: the terminal it runs in hears what is said
            log.info("%s", text)

    def showing(self) -> IndicatorState:
        return IndicatorState(text=None)


def run(service: Service, controls: Controls) -> int:
    """Serve until Ctrl+C, SIGTERM or Quit (``/api/desktop/quit``); 1 if the server could not start."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not service.started(0.5):
        if stop.is_set():
            return 0
    try:
        url = service.wait()
    except ServiceFailed as error:
        log.error("%s", error)
        return 1
    controls.attach(BrowserSurface(url, stop))
    print("Opening it in the browser; Ctrl+C stops Hush.", flush=True)
    if not webbrowser.open(url):
        print("No browser could be opened; open the address above yourself.", flush=True)
    while not stop.wait(0.5):  # a timed wait lets the signal handler run promptly on every platform
        pass
    return 0
