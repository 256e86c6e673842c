"""What the server may ask of the desktop app (``backend.web.dependencies.Desktop``): come to the
front, quit, how Hush lives on this computer (menu entry, background, login), and dictation into
other apps (start, finish or cancel it; type its text into the focused app).

The server calls these from its request threads (a second launch, the page's settings, the tray's
twin in the API); the window or browser that shows Hush (a ``Surface``) is attached once it exists.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Protocol

from backend.web.schemas import (
    Delivery,
    DesktopChange,
    DesktopPreferences,
    DictationAction,
    DictationProgress,
    DictationState,
    IndicatorState,
)
from desktop import entries, shortcut, state
from desktop.shortcut import Shortcut
from desktop.state import State
from desktop.typist import Typist

log = logging.getLogger(__name__)

LISTENING = "Listening…"
#: Under the live text while listening: how to finish and cancel, as Hush hears keys on this desktop:
#: its own listener hears Escape too; the GlobalShortcuts portal only the shortcut; a key bound in the
#: desktop's settings to ``hush dictate toggle`` only taps. The indicator's × cancels everywhere.
HINT = "Release the keys, or tap again, to type it · Esc cancels"
HINT_PORTAL = "Release the keys, or tap again, to type it · × cancels"
HINT_BOUND = "Press your shortcut again to type it · × cancels"
TRANSCRIBING = "Typing…"
#: How long a problem stays in the indicator; how long "Typing…" at most (a failed transcription).
PROBLEM_SECONDS = 8.0
TRANSCRIBING_SECONDS = 60.0


class Surface(Protocol):
    """Where Hush shows itself: the native window (``window.py``) or the browser (``browser.py``)."""

    tray: bool

    def bring_to_front(self) -> None:
        """Show it (again), restored and on top, with the keyboard focus."""

    def close(self) -> None:
        """Close it for good: Hush stops once it is closed."""

    def dictate(self, action: str) -> None:
        """Tell the page to ``start``, ``stop`` (then send) or ``cancel`` its dictation recording, without
        taking the keyboard focus; ``ValueError`` (a sentence) where this surface cannot record one."""

    def set_clipboard(self, text: str) -> None:
        """Put ``text`` on the system clipboard (the dictation's fallback when nothing can type)."""

    def get_clipboard(self) -> str | None:
        """The system clipboard's text (``None`` when it holds none), to restore it after a paste."""

    def indicate(
        self, text: str | None, seconds: float | None = None, *, hint: str | None = None, level: float | None = None
    ) -> None:
        """Show ``text`` in the dictation indicator (``None`` hides it), for ``seconds`` if given; ``hint``
        a smaller line under it, ``level`` (0…1) the microphone's level on its meter (``None``: no meter)."""

    def showing(self) -> IndicatorState:
        """What the indicator shows now."""


class Controls:
    """The desktop app's side of ``/api/desktop``."""

    def __init__(self, data_dir: Path, remembered: State) -> None:
        """``remembered``: the launcher's state, where "keep running" is kept (saved when it changes)."""
        self.data_dir = data_dir
        self.remembered = remembered
        self.quitting = threading.Event()
        self._surface: Surface | None = None
        self._lock = threading.Lock()
        self.dictating = False  # between a dictation's start and its stop or cancel
        self.typist = Typist(self._set_clipboard, self._get_clipboard)
        self.typist.paste = remembered.dictation_paste
        self.typist.trailing_space = remembered.dictation_trailing_space
        self.typist.keep_on_clipboard = remembered.dictation_keep_on_clipboard
        self.shortcut: Shortcut | None = None
        self.shortcut_note: str | None = None  # why no shortcut is heard here

    def listen(self, shortcut: Shortcut, note: str | None) -> None:
        """The global shortcut as started (``note``: why it cannot be heard here, if so)."""
        self.shortcut, self.shortcut_note = shortcut, note

    def attach(self, surface: Surface) -> None:
        with self._lock:
            self._surface = surface

    def show(self) -> None:
        with self._lock:
            surface = self._surface
        if surface is not None:
            surface.bring_to_front()

    def quit(self) -> None:
        """Close the window even when "keep running" would only hide it; the launcher then stops the server."""
        self.quitting.set()
        with self._lock:
            surface = self._surface
        if surface is not None:
            surface.close()

    def dictate(self, action: DictationAction) -> None:
        """Start, finish or cancel a dictation (``toggle``: start one, or finish the one under way);
        an action that does not fit the moment (``stop`` with none under way) does nothing."""
        with self._lock:
            surface = self._surface
            if action == "toggle":
                action = "stop" if self.dictating else "start"
            if surface is None or (action == "start") == self.dictating:
                return
            surface.dictate(action)  # ValueError where it cannot record: nothing changes then
            self.dictating = action == "start"
            if action == "start":
                surface.indicate(LISTENING, hint=self.hint, level=0.0)
            elif action == "stop":
                surface.indicate(TRANSCRIBING, TRANSCRIBING_SECONDS)
            else:
                surface.indicate(None)
        log.info("dictation: %s", action)

    def progress(self, progress: DictationProgress) -> None:
        """The page's level and live text while it records; one that arrives after the stop (the
        indicator says "Typing…" by then) is dropped."""
        with self._lock:
            if self._surface is not None and self.dictating:
                self._surface.indicate(progress.text.strip() or LISTENING, hint=self.hint, level=progress.level)

    @property
    def hint(self) -> str:
        """How to finish and cancel the dictation under way, as this desktop lets Hush hear keys."""
        if self.shortcut is None or self.shortcut_note is not None:
            return HINT_BOUND
        return HINT_PORTAL if self.shortcut.portal is not None else HINT

    def dictation(self) -> DictationState:
        with self._lock:
            surface = self._surface
            dictating = self.dictating
        return DictationState(
            dictating=dictating, indicator=surface.showing() if surface is not None else IndicatorState(text=None)
        )

    def deliver(self, text: str) -> Delivery:
        delivery = self.typist.deliver(text)
        log.info("dictation delivered: %s%s", delivery.method, f" ({delivery.message})" if delivery.message else "")
        with self._lock:
            surface = self._surface
        if surface is not None:
            surface.indicate(delivery.message, PROBLEM_SECONDS) if delivery.message else surface.indicate(None)
        return delivery

    def _get_clipboard(self) -> str | None:
        with self._lock:
            surface = self._surface
        if surface is None:
            raise ValueError("Hush has no window to reach the clipboard through.")
        return surface.get_clipboard()

    def _set_clipboard(self, text: str) -> None:
        with self._lock:
            surface = self._surface
        if surface is None:
            raise ValueError("Hush has no window to reach the clipboard through.")
        surface.set_clipboard(text)

    @property
    def keep_running(self) -> bool:
        """The user's choice; until they make one, on where the dictation shortcut is heard, so that
        closing the window does not take the shortcut away (it waits in the tray)."""
        chosen = self.remembered.keep_running
        return chosen if chosen is not None else self.shortcut is not None and self.shortcut_note is None

    def should_hide(self) -> bool:
        """Whether closing the window should only hide it: "keep running" is on and this is not Quit."""
        return self.keep_running and not self.quitting.is_set()

    def preferences(self) -> DesktopPreferences:
        surface = self._surface
        return DesktopPreferences(
            menu_entry=entries.supported() and entries.is_installed(),
            keep_running=self.keep_running,
            start_at_login=entries.supported() and entries.starts_at_login(),
            tray=bool(surface and surface.tray),
            can_install=entries.supported(),
            dictation_shortcut=self.remembered.dictation_shortcut,
            dictation_paste=self.remembered.dictation_paste,
            dictation_trailing_space=self.remembered.dictation_trailing_space,
            dictation_keep_on_clipboard=self.remembered.dictation_keep_on_clipboard,
            dictation_shortcut_note=self.shortcut_note,
        )

    def change(self, change: DesktopChange) -> DesktopPreferences:
        """``ValueError`` (a sentence) for a shortcut that is none; ``OSError`` if a file cannot be written."""
        if change.dictation_shortcut is not None:
            combo = "+".join(_ordered(change.dictation_shortcut))
            if self.shortcut is not None:
                self.shortcut.rebind(combo)
            self.remembered.dictation_shortcut = combo
            state.save(self.data_dir, self.remembered)
        if change.dictation_paste is not None:
            self.remembered.dictation_paste = self.typist.paste = change.dictation_paste
            state.save(self.data_dir, self.remembered)
        if change.dictation_trailing_space is not None:
            self.remembered.dictation_trailing_space = self.typist.trailing_space = change.dictation_trailing_space
            state.save(self.data_dir, self.remembered)
        if change.dictation_keep_on_clipboard is not None:
            keep = change.dictation_keep_on_clipboard
            self.remembered.dictation_keep_on_clipboard = self.typist.keep_on_clipboard = keep
            state.save(self.data_dir, self.remembered)
        if change.keep_running is not None:
            self.remembered.keep_running = change.keep_running
            state.save(self.data_dir, self.remembered)
        if entries.supported():
            if change.menu_entry is True:
                entries.install()
            elif change.menu_entry is False:
                entries.uninstall()
            if change.start_at_login is not None:
                entries.set_start_at_login(change.start_at_login)
        log.info("desktop preferences now: %s", self.preferences())
        return self.preferences()


def _ordered(combo: str) -> list[str]:
    """``"Shift+Ctrl+D"`` → ``["ctrl", "shift", "d"]``: the modifiers in one order, then the key."""
    modifiers, key = shortcut.parse(combo)
    if not modifiers:
        raise ValueError(
            f"{combo!r} has no Ctrl, Shift, Alt or Super: every press of {key} would start a dictation. Add one."
        )
    return [*(m for m in shortcut.ORDER if m in modifiers), key]
