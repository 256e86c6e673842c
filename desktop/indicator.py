"""The small dictation indicator: a window near the bottom of the screen, on top of every other, that
never takes the keyboard focus from the app being dictated into.

It is a pywebview window of its own (so the same code serves Linux, Windows and macOS) showing
``ui/indicator.html``: while Hush listens, a level meter (the microphone, as the page hears it), the
live text as it grows, how to finish and a × that cancels; then that it types, or what the user can
do when the text could not be typed (for a few seconds); it is gone when the text has arrived.
``say`` may come from any thread, the GUI thread included (the tray); ``state`` waits on the GUI thread
(pywebview's calls do), so never from it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from backend.web.schemas import IndicatorState

log = logging.getLogger(__name__)

TITLE = "Hush dictation"
PAGE = "indicator.html"
#: Its size, and how far its bottom edge stays above the screen's (a bottom panel, taskbar or Dock).
WIDTH, HEIGHT, MARGIN = 560, 84, 96
#: Its background before the page paints (``--indicator-bg`` in ui/css/indicator.css).
BACKGROUND = "#18181b"


class IndicatorApi:
    """What the indicator's page may ask of the app (``window.pywebview.api``): only to cancel."""

    def __init__(self, cancel: Callable[[], None]) -> None:
        self._cancel = cancel

    def cancel(self) -> None:
        """The ×: cancel the dictation under way (nothing is typed; the recording stays in the history)."""
        self._cancel()


class Indicator:
    """Shown with ``say(text)``, hidden with ``say(None)``; ``seconds`` hides it again after a while.

    Create it before ``webview.start`` (hidden) and ``load`` the page once the server answers."""

    def __init__(self, cancel: Callable[[], None]) -> None:
        import webview

        self.window = webview.create_window(
            TITLE,
            width=WIDTH,
            height=HEIGHT,
            frameless=True,
            on_top=True,
            focus=False,
            hidden=True,
            resizable=False,
            background_color=BACKGROUND,
            js_api=IndicatorApi(cancel),
        )
        self.window.events.before_show += self._never_managed
        self.window.events.loaded += self._loaded
        # say() only records what to show and wakes the drawing thread: pywebview's calls wait on the
        # GUI thread, and the tray calls in from there. The newest message wins (levels come 10 a second).
        self._changed = threading.Condition()
        self._message: dict[str, Any] | None = None  # what to show; None: hidden
        self._version = 0  # counts messages and page loads; the drawing thread draws when it moves
        self._ready = False  # the indicator page (not pywebview's blank one) has loaded
        self._closed = False
        self._visible = False  # the drawing thread's: the window is shown
        self._timer: threading.Timer | None = None
        threading.Thread(target=self._draw_changes, name="indicator", daemon=True).start()

    def load(self, url: str) -> None:
        """Load the page from the server whose recorder page is at ``url`` (``…/?token=…``)."""
        base, _, query = url.partition("?")
        self.window.load_url(base + PAGE + (f"?{query}" if query else ""))

    def say(
        self, text: str | None, seconds: float | None = None, *, hint: str | None = None, level: float | None = None
    ) -> None:
        """``level`` (0…1) shows the meter with it as the newest bar; ``None`` hides the meter."""
        with self._changed:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._message = None if text is None else {"text": text, "hint": hint, "level": level}
            self._version += 1
            self._changed.notify()
            if seconds is not None and self._message is not None:
                self._timer = threading.Timer(seconds, self._expire, (self._message,))
                self._timer.daemon = True
                self._timer.start()

    def state(self) -> IndicatorState:
        """What the page shows now, read back from it."""
        with self._changed:
            ready = self._ready
        if not (ready and self._visible):
            return IndicatorState(text=None)
        shown = self.window.evaluate_js("window.hushIndicator.state()") or {}
        return IndicatorState(text=shown.get("text"), level=shown.get("level"))

    def close(self) -> None:
        """Gone with the main window (pywebview keeps running while any window is left)."""
        with self._changed:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            self._changed.notify()
        self.window.destroy()

    @staticmethod
    def off_the_record() -> None:
        """Qt: call on the GUI thread once the main window has its web profile (its ``before_show``).

        pywebview gives each Qt window a profile named "pywebview" on the same folder; a second one
        there stalled the first (the recorder page stopped loading). The indicator keeps nothing, so
        the windows made after this one get an off-the-record profile."""
        from webview import _state

        _state["private_mode"] = True

    def _draw_changes(self) -> None:
        drawn = 0
        while True:
            with self._changed:
                while not (self._closed or (self._ready and self._version != drawn)):
                    self._changed.wait()
                if self._closed:
                    return
                drawn, message = self._version, self._message
            try:
                self._draw(message)
            except Exception:  # a nicety: a failed drawing must not end the thread
                log.exception("the dictation indicator could not be drawn")

    def _draw(self, message: dict[str, Any] | None) -> None:
        if message is None:
            self.window.run_js("window.hushIndicator.hide()")
            if self._visible:
                self.window.hide()
                self._visible = False
            return
        self.window.run_js(f"window.hushIndicator.show({json.dumps(message)})")
        if not self._visible:
            self._place()
            self.window.show()
            self._visible = True

    def _place(self) -> None:
        """Centred near the bottom of the primary screen (placed at each showing: screens change)."""
        import webview

        screens = webview.screens
        if screens:
            screen = screens[0]
            self.window.move(screen.x + (screen.width - WIDTH) // 2, screen.y + max(0, screen.height - HEIGHT - MARGIN))

    def _expire(self, message: dict[str, Any]) -> None:
        with self._changed:
            if self._message is message:  # nothing newer was said meanwhile
                self._message, self._timer = None, None
                self._version += 1
                self._changed.notify()

    def _loaded(self) -> None:  # pywebview's thread: any page has loaded, the blank one too
        ready = (self.window.get_current_url() or "").split("?", 1)[0].endswith(PAGE)
        with self._changed:
            self._ready = ready
            self._version += 1  # a reloaded page shows the message again
            self._changed.notify()

    def _never_managed(self) -> None:  # GUI thread, before its first showing
        """With Qt (Linux) a tool window that no window manager manages (X11 override-redirect): no
        taskbar entry, and no window manager that gives it the focus after all."""
        if self.window.gui.renderer != "qtwebengine":
            return
        from PyQt6.QtCore import Qt

        view = self.window.gui.BrowserView.instances[self.window.uid]
        view.setWindowFlags(view.windowFlags() | Qt.WindowType.Tool | Qt.WindowType.X11BypassWindowManagerHint)
