"""The small dictation indicator: a line of text near the bottom of the screen, on top of every
window, that never takes the keyboard focus from the app being dictated into (Qt, GUI thread only).

It says that Hush listens, then that it transcribes and types, or what the user can do when the
text could not be typed (it stays a few seconds then); it is gone when the text has arrived.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import QLabel

TITLE = "Hush dictation"
STYLE = (
    "QLabel { background: rgba(24, 24, 27, 235); color: #fafafa; border-radius: 10px;"
    " padding: 10px 18px; font-size: 15px; }"
)
#: Distance from the bottom of the screen's available area (above a bottom panel).
MARGIN = 48
#: Longer sentences wrap at this width; the padding is the style sheet's, left and right.
MAX_WIDTH, PADDING = 640, 2 * 18 + 4


class Indicator:
    """Shown with ``say(text)``, hidden with ``say(None)``; ``seconds`` hides it again after a while."""

    def __init__(self) -> None:
        self.label = QLabel()
        self.label.setWindowTitle(TITLE)
        # A tool window without a frame, above the others, that the window manager never focuses:
        # X11 BypassWindowManager makes it override-redirect, which no window manager can activate.
        self.label.setWindowFlags(
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus
            | Qt.WindowType.X11BypassWindowManagerHint
        )
        self.label.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.label.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.label.setStyleSheet(STYLE)
        self.label.setWordWrap(True)
        self.timer = QTimer()
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.label.hide)

    def say(self, text: str | None, seconds: float | None = None) -> None:
        self.timer.stop()
        if text is None:
            self.label.hide()
            return
        self.label.setText(text)
        self.label.ensurePolished()  # the style sheet's font, before measuring
        width = self.label.fontMetrics().horizontalAdvance(text) + PADDING
        self.label.setFixedWidth(min(width, MAX_WIDTH))
        self.label.setFixedHeight(self.label.heightForWidth(self.label.width()))
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            self.label.move(
                area.x() + (area.width() - self.label.width()) // 2,
                area.y() + area.height() - self.label.height() - MARGIN,
            )
        self.label.show()
        self.label.raise_()
        if seconds is not None:
            self.timer.start(int(seconds * 1000))
