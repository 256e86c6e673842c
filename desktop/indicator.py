"""The small dictation indicator: a box near the bottom of the screen, on top of every window, that
never takes the keyboard focus from the app being dictated into (Qt, GUI thread only).

While Hush listens it shows a level meter (the microphone, as the page hears it), the live text
as it grows and how to finish; then that it types, or what the user can do when the text could not
be typed (it stays a few seconds then); it is gone when the text has arrived.
"""

from __future__ import annotations

from collections import deque

from PyQt6.QtCore import QRectF, Qt, QTimer
from PyQt6.QtGui import QColor, QGuiApplication, QPainter
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from backend.web.schemas import IndicatorState

TITLE = "Hush dictation"
STYLE = (
    "QFrame#box { background: rgba(24, 24, 27, 235); border-radius: 10px; }"
    " QLabel { color: #fafafa; font-size: 15px; background: transparent; }"
    " QLabel#hint { color: #a1a1aa; font-size: 12px; }"
)
#: Distance from the bottom of the screen's available area (above a bottom panel).
MARGIN = 48
#: Longer text wraps at this width; beyond ``TAIL`` characters only the newest words are shown.
MAX_WIDTH, TAIL = 640, 240
#: The box's padding, left and right, around the meter and the text.
PADDING = (18, 10)


class Meter(QWidget):
    """The newest levels as a row of bars, the newest on the right (the page's meter, in small)."""

    BARS, BAR, GAP = 10, 3, 2
    ON, OFF = QColor("#34d399"), QColor("#52525b")

    def __init__(self) -> None:
        super().__init__()
        self.levels: deque[float] = deque([0.0] * self.BARS, maxlen=self.BARS)
        self.setFixedSize(self.BARS * (self.BAR + self.GAP) - self.GAP, 22)

    def push(self, level: float) -> None:
        self.levels.append(min(1.0, max(0.0, level)))
        self.update()

    def paintEvent(self, _event: object) -> None:  # Qt names it
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        height = self.height()
        for i, level in enumerate(self.levels):
            bar = max(3.0, level * height)
            painter.setBrush(self.ON if level > 0.02 else self.OFF)
            painter.drawRoundedRect(QRectF(i * (self.BAR + self.GAP), (height - bar) / 2, self.BAR, bar), 1.5, 1.5)


class Indicator:
    """Shown with ``say(text)``, hidden with ``say(None)``; ``seconds`` hides it again after a while."""

    def __init__(self) -> None:
        self.window = QFrame()
        self.window.setObjectName("box")
        self.window.setWindowTitle(TITLE)
        # A tool window without a frame, above the others, that the window manager never focuses:
        # X11 BypassWindowManager makes it override-redirect, which no window manager can activate.
        self.window.setWindowFlags(
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus
            | Qt.WindowType.X11BypassWindowManagerHint
        )
        self.window.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.window.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.window.setStyleSheet(STYLE)
        row = QHBoxLayout(self.window)
        row.setContentsMargins(PADDING[0], PADDING[1], PADDING[0], PADDING[1])
        row.setSpacing(12)
        self.meter = Meter()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.hint = QLabel()
        self.hint.setObjectName("hint")
        lines = QVBoxLayout()
        lines.setSpacing(2)
        lines.addWidget(self.text)
        lines.addWidget(self.hint)
        row.addWidget(self.meter, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addLayout(lines, 1)
        self.level: float | None = None
        self.timer = QTimer()
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.window.hide)

    def say(
        self, text: str | None, seconds: float | None = None, *, hint: str | None = None, level: float | None = None
    ) -> None:
        """``level`` (0…1) shows the meter with it as the newest bar; ``None`` hides the meter."""
        self.timer.stop()
        if text is None:
            self.window.hide()
            self.level = None
            return
        if len(text) > TAIL:  # the newest words matter: the ones just said
            text = "…" + text[-TAIL:].split(" ", 1)[-1]
        self.text.setText(text)
        self.hint.setText(hint or "")
        self.hint.setVisible(bool(hint))
        self.meter.setVisible(level is not None)
        if level is not None:
            if self.level is None:  # a new dictation: the bars start from silence
                self.meter.levels.extend([0.0] * Meter.BARS)
            self.meter.push(level)
        self.level = level
        self._place()
        self.window.show()
        self.window.raise_()
        if seconds is not None:
            self.timer.start(int(seconds * 1000))

    def state(self) -> IndicatorState:
        visible = self.window.isVisible()
        return IndicatorState(text=self.text.text() if visible else None, level=self.level if visible else None)

    def _place(self) -> None:
        """As wide as its text needs (up to ``MAX_WIDTH``), centred near the bottom of the screen."""
        self.window.ensurePolished()
        self.text.ensurePolished()  # the style sheet's font, before measuring
        self.hint.ensurePolished()
        meter = self.meter.width() + 12 if self.meter.isVisible() else 0
        widest = max(
            self.text.fontMetrics().horizontalAdvance(self.text.text()),
            self.hint.fontMetrics().horizontalAdvance(self.hint.text()) if self.hint.isVisible() else 0,
        )
        width = min(widest + meter + 2 * PADDING[0] + 4, MAX_WIDTH)
        self.window.setFixedWidth(width)
        self.window.layout().activate()
        height = self.window.layout().totalHeightForWidth(width)
        self.window.setFixedHeight(max(height, self.window.minimumSizeHint().height()))
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            self.window.move(
                area.x() + (area.width() - self.window.width()) // 2,
                area.y() + area.height() - self.window.height() - MARGIN,
            )
