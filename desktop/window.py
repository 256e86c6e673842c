"""The native window: on screen at once with a "starting" page, switched to the recorder when the server answers.

Closing it (the title bar's ×, the window manager, or SIGTERM) returns from ``run``; the caller
then stops the server. With "keep running" on, the title bar's × only hides it (Hush stays in the
tray, ready for the next launch or the tray's menu); Quit, SIGTERM and ``/api/desktop/quit`` close it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.web.schemas import IndicatorState
from desktop import clipboard, pages, permissions
from desktop.bridge import Bridge
from desktop.controls import Controls
from desktop.indicator import Indicator
from desktop.service import Service, ServiceFailed
from desktop.state import MIN_SIZE, Geometry

if TYPE_CHECKING:
    from backend.settings import Settings

log = logging.getLogger(__name__)

TITLE = "Hush"


def icon_path() -> str | None:
    """The recorder page's icon, also the window's (GTK and Qt only); same place as ``backend.web.app.ui_folder``."""
    root = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    icon = root / "ui" / "icon.svg"
    return str(icon) if icon.is_file() else None


def _gui() -> str | None:
    """pywebview tries GTK first on Linux and logs a traceback when PyGObject is missing, the usual case."""
    if sys.platform.startswith("linux") and importlib.util.find_spec("gi") is None:
        return "qt"
    return None


def _allow_sandbox_less_root() -> None:
    """Chromium's sandbox refuses to run as root (containers, CI); Qt WebEngine then needs it off."""
    if sys.platform.startswith("linux") and os.geteuid() == 0 and "QTWEBENGINE_DISABLE_SANDBOX" not in os.environ:
        log.warning("running as root: Qt WebEngine's sandbox is turned off")
        os.environ["QTWEBENGINE_DISABLE_SANDBOX"] = "1"


def _keep_cache_in_memory(window: Any) -> None:
    """The page keeps its origin between launches (same port) and its files come from the app folder: a
    disk-cached copy could outlive an upgrade by heuristic freshness, so Qt caches in memory only."""
    if window.gui.renderer == "qtwebengine":
        profile = window.gui.BrowserView.instances[window.uid].webview.page().profile()
        profile.setHttpCacheType(type(profile).HttpCacheType.MemoryHttpCache)


#: What the page hears when Hush comes to the front or the tray asks to record (``ui/app.js``).
SHOWN_EVENT = "window.dispatchEvent(new CustomEvent('hush:shown'))"
RECORD_EVENT = "window.dispatchEvent(new CustomEvent('hush:record'))"
#: Dictation: start, stop or cancel its recording (``ui/dictation.js``); the window stays where it is.
DICTATE_EVENT = "window.dispatchEvent(new CustomEvent('hush:dictate', {{detail: '{action}'}}))"


class WindowSurface:
    """The window as ``Controls`` sees it (``controls.Surface``): brought to the front from any thread.

    With Qt (Linux) the work is carried to the GUI thread and a tray icon is added where the desktop
    has a tray; elsewhere pywebview's own show/restore do it. The dictation indicator is a window of
    its own on every platform (``indicator.py``)."""

    def __init__(self, window: Any, controls: Controls, indicator: Indicator) -> None:
        self.window = window
        self.controls = controls
        self.indicator = indicator
        self.tray = False
        self._gui: Any = None  # qt.GuiThread, once the GUI thread exists
        self._tray: Any = None

    def on_gui_thread(self) -> None:
        """Called once on the GUI thread, before the window is shown."""
        if self.window.gui.renderer != "qtwebengine":
            return
        from desktop import qt

        qt.keep_running_without_windows()
        self._gui = qt.GuiThread()
        icon = icon_path()
        if icon and qt.Tray.available():
            self._tray = qt.Tray(
                icon,
                show=self._front,
                record=self._record,
                dictate=lambda: self.controls.dictate("toggle"),
                quit_=self.controls.quit,
            )
            self.tray = True

    def bring_to_front(self) -> None:
        if self._gui is not None:
            self._gui.run(self._front)
        else:
            self.window.show()
            self.window.restore()
            threading.Thread(target=self.window.evaluate_js, args=(SHOWN_EVENT,), daemon=True).start()

    def dictate(self, action: str) -> None:
        script = DICTATE_EVENT.format(action=action)
        if self._gui is not None:
            self._gui.run(lambda: self._run_js(script))
        else:
            threading.Thread(target=self.window.evaluate_js, args=(script,), daemon=True).start()

    def set_clipboard(self, text: str) -> None:
        if self._gui is None:
            clipboard.set_text(text)
            return
        from desktop import qt

        self._gui.call(lambda: qt.set_clipboard(text))  # on the clipboard before Ctrl+V is pressed

    def get_clipboard(self) -> str | None:
        if self._gui is None:
            return clipboard.get_text()
        from desktop import qt

        return self._gui.call(qt.get_clipboard)

    def indicate(
        self, text: str | None, seconds: float | None = None, *, hint: str | None = None, level: float | None = None
    ) -> None:
        self.indicator.say(text, seconds, hint=hint, level=level)

    def showing(self) -> IndicatorState:
        return self.indicator.state()

    def _run_js(self, script: str) -> None:  # GUI thread (Qt)
        if (view := self._view()) is not None:
            view.webview.page().runJavaScript(script)

    def close(self) -> None:
        if self._gui is not None and self._tray is not None:
            self._gui.run(self._tray.hide)
        self.window.destroy()

    def _view(self) -> Any:
        return self.window.gui.BrowserView.instances.get(self.window.uid)

    def _front(self) -> None:  # GUI thread (Qt)
        from desktop import qt

        if (view := self._view()) is not None:
            qt.bring_to_front(view)
            view.webview.page().runJavaScript(SHOWN_EVENT)

    def _record(self) -> None:  # GUI thread (Qt): the tray's Record
        self._front()
        if (view := self._view()) is not None:
            view.webview.page().runJavaScript(RECORD_EVENT)


class GeometryTracker:
    """Follows the window's moves and resizes, so the next launch opens it where the user left it."""

    def __init__(self, window: Any, start: Geometry) -> None:
        self.geometry = start
        window.events.resized += self._resized
        window.events.moved += self._moved
        window.events.maximized += lambda: self._set(maximized=True)
        window.events.restored += lambda: self._set(maximized=False)

    def _set(self, **changes: Any) -> None:
        self.geometry = replace(self.geometry, **changes)

    def _resized(self, width: int, height: int) -> None:
        if not self.geometry.maximized:  # keep the normal size to restore to
            self._set(width=width, height=height)

    def _moved(self, x: int, y: int) -> None:
        if not self.geometry.maximized:
            self._set(x=x, y=y)


def run(
    settings: Settings,
    service: Service,
    controls: Controls,
    geometry: Geometry,
    *,
    hidden: bool = False,
    debug: bool = False,
) -> tuple[int, Geometry]:
    """Show the window until it is closed; the exit status (1 if the server never came up) and its geometry.

    ``hidden``: start without showing it (at login: Hush waits in the tray)."""
    _allow_sandbox_less_root()
    if _gui() == "qt":
        from desktop import qt

        qt.name_the_app()
    import webview
    from webview.errors import WebViewException

    webview.settings["ALLOW_DOWNLOADS"] = True  # a plain download link gets the Save dialog too
    window = webview.create_window(
        TITLE,
        html=pages.starting(),
        width=geometry.width,
        height=geometry.height,
        x=geometry.x,
        y=geometry.y,
        min_size=MIN_SIZE,
        maximized=geometry.maximized,
        background_color=pages.BACKGROUND,
        js_api=Bridge(),
        hidden=hidden,
    )
    tracker = GeometryTracker(window, geometry)
    indicator = Indicator(cancel=lambda: controls.dictate("cancel"))
    surface = WindowSurface(window, controls, indicator)

    def initialized(_renderer: str) -> None:  # GUI thread, before the native window is built
        tracker.geometry = fitted = geometry.fitted(window.gui.get_screens())
        window.initial_width, window.initial_height = fitted.width, fitted.height
        window.initial_x, window.initial_y = fitted.x, fitted.y
        permissions.prepare(window, service.serves)

    def before_show() -> None:  # GUI thread, the web view exists but has loaded nothing
        permissions.install(window, service.serves)
        _keep_cache_in_memory(window)
        if window.gui.renderer == "qtwebengine":
            Indicator.off_the_record()
        surface.on_gui_thread()
        controls.attach(surface)

    def closing() -> bool:  # GUI thread: False keeps the window (only hidden) and Hush running
        if controls.should_hide():
            log.info("window closed; Hush keeps running%s", " in the tray" if surface.tray else "")
            window.hide()
            return False
        return True

    window.events.initialized += initialized
    window.events.before_show += before_show
    window.events.closing += closing
    window.events.closed += indicator.close

    failed = threading.Event()

    def navigate() -> None:  # pywebview's worker thread, while the window shows the "starting" page
        try:
            url = service.wait()
        except ServiceFailed as error:
            if service.stopping:  # the window was closed while the server was starting
                return
            failed.set()
            window.load_html(pages.failed(str(error)))
            return
        log.info("loading the recorder from %s", url)
        window.load_url(url)
        indicator.load(url)

    def close(_signum: int, _frame: Any) -> None:  # a session ending closes the window like Quit does
        controls.quitting.set()
        window.destroy()

    signal.signal(signal.SIGTERM, close)
    try:
        webview.start(
            navigate,
            gui=_gui(),
            debug=debug,
            private_mode=False,  # keep what the page stores (localStorage) between launches ...
            storage_path=str(settings.data_dir / "webview"),  # ... in Hush's data folder, not ~/.pywebview
            icon=icon_path(),
        )
    except WebViewException as error:  # no usable web view on this system (libraries missing)
        log.error("Hush could not open its window: %s\nStart it with --browser to use your web browser.", error)
        return 1, geometry
    log.info("window closed")
    return (1 if failed.is_set() else 0), tracker.geometry
