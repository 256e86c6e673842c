"""What Hush asks of Qt itself, beyond pywebview (the Linux window is Qt): its name on the desktop,
bringing the window to the front from another thread, and the tray icon.

Qt objects belong to the GUI thread; the server asks from its request threads. ``GuiThread``
carries a call over with a queued signal, the way Qt moves work between threads.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PyQt6.QtCore import QCoreApplication, QObject, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QGuiApplication, QIcon
from PyQt6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from desktop import entries

log = logging.getLogger(__name__)


def name_the_app() -> None:
    """Before Qt starts: WM_CLASS ``hush``/``Hush`` and the desktop file name, so docks and the
    applications menu (``StartupWMClass``) know the window as Hush, not as "python3"."""
    os.environ.setdefault("RESOURCE_NAME", entries.APP_ID)
    QCoreApplication.setApplicationName(entries.WM_CLASS)
    QGuiApplication.setDesktopFileName(entries.APP_ID)


def keep_running_without_windows() -> None:
    """Hiding the window ("keep running") must not end Qt's event loop; pywebview ends it itself
    when its window is really closed."""
    QApplication.instance().setQuitOnLastWindowClosed(False)


class GuiThread(QObject):
    """Runs callables on the thread it was created on (create it on the GUI thread)."""

    _call = pyqtSignal(object)

    def __init__(self) -> None:
        super().__init__()
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def run(self, function: Callable[[], Any]) -> None:
        """Queue ``function`` for the GUI thread; returns at once."""
        self._call.emit(function)

    def call(self, function: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run ``function`` on the GUI thread and wait for its result (from another thread only)."""
        result: Future[Any] = Future()

        def run() -> None:
            try:
                result.set_result(function())
            except Exception as error:
                result.set_exception(error)

        self._call.emit(run)
        return result.result(timeout)

    @staticmethod
    def _run(function: Callable[[], Any]) -> None:
        try:
            function()
        except Exception:  # a failure here must not take the event loop down
            log.exception("a call on the GUI thread failed")


def bring_to_front(view: Any) -> None:
    """On the GUI thread: show the window (hidden by "keep running"), un-minimise it without losing
    "maximised", raise it and give it the keyboard focus."""
    view.show()
    view.setWindowState((view.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive)
    view.raise_()
    view.activateWindow()


def get_clipboard() -> str | None:
    """On the GUI thread: the clipboard's text, ``None`` when it holds no text."""
    data = QGuiApplication.clipboard().mimeData()
    return data.text() if data is not None and data.hasText() else None


def set_clipboard(text: str) -> None:
    """On the GUI thread: ``text`` on the system clipboard (Qt keeps offering it while Hush runs)."""
    QGuiApplication.clipboard().setText(text)


class Tray:
    """The tray icon and its menu, where the desktop has a system tray (most do; GNOME with an extension)."""

    def __init__(
        self,
        icon_path: str,
        show: Callable[[], None],
        record: Callable[[], None],
        dictate: Callable[[], None],
        quit_: Callable[[], None],
    ):
        self.icon = QSystemTrayIcon(QIcon(icon_path))
        self.icon.setToolTip("Hush: speech to text")
        self.menu = QMenu()
        for label, action in (("Show Hush", show), ("Record", record), ("Dictate", dictate)):
            self.menu.addAction(self._action(label, action))
        self.menu.addSeparator()
        self.menu.addAction(self._action("Quit Hush", quit_))
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(
            lambda reason: show() if reason == QSystemTrayIcon.ActivationReason.Trigger else None
        )
        self.icon.show()

    def _action(self, label: str, function: Callable[[], None]) -> QAction:
        action = QAction(label, self.menu)
        action.triggered.connect(lambda _checked=False: function())
        return action

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def hide(self) -> None:
        self.icon.hide()
