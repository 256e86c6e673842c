"""The global dictation shortcut: hold it to talk and release to finish, or tap it to start and tap
again to finish (both always on); Escape while dictating cancels.

pynput's keyboard listener hears the keys whichever app has the focus (X11: the RECORD extension;
Windows: a low-level keyboard hook; macOS: an event tap, which needs the Input Monitoring and
Accessibility permissions). On X11 the shortcut is also grabbed (``xtest.Grab``), so the focused
app does not get it (a text box would type a space); elsewhere the app sees it too. Wayland has
no global key listening for ordinary apps: there the desktop's GlobalShortcuts portal says when the
shortcut goes down and up (``portal.py``) where it offers one; elsewhere the user binds
``hush dictate toggle`` in the desktop's settings.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

DEFAULT = "ctrl+shift+space"
#: Held longer than this, the shortcut's release finishes the dictation (hold mode); shorter is a tap.
HOLD_SECONDS = 0.4
#: A release followed this soon by a press of the same key is the keyboard's auto-repeat, not the user.
REPEAT_SECONDS = 0.08
ORDER = ("ctrl", "shift", "alt", "super")
MODIFIERS = set(ORDER)


def parse(combo: str) -> tuple[frozenset[str], str]:
    """``"ctrl+shift+space"`` → its modifiers and its key; ``ValueError`` for one without a key."""
    parts = [part.strip().lower() for part in combo.split("+") if part.strip()]
    keys = [part for part in parts if part not in MODIFIERS]
    if len(keys) != 1:
        raise ValueError(f"{combo!r} is not a shortcut: give modifiers and one key, e.g. {DEFAULT}.")
    return frozenset(part for part in parts if part in MODIFIERS), keys[0]


def key_name(key: Any) -> str:
    """pynput's key as the shortcut names it: ``ctrl`` for either Ctrl, ``space``, ``a``, ``esc``."""
    name = getattr(key, "name", None)  # a pynput Key
    if name is None:
        char = getattr(key, "char", None)
        return char.lower() if char else f"<{getattr(key, 'vk', '?')}>"
    base = name.split("_")[0]  # ctrl_l → ctrl, alt_gr → alt
    return "super" if base == "cmd" else base


class Shortcut:
    """Turns key presses and releases (from any thread, in order) into start, stop and cancel."""

    def __init__(
        self,
        combo: str,
        start: Callable[[], None],
        stop: Callable[[], None],
        cancel: Callable[[], None],
        dictating: Callable[[], bool],
    ) -> None:
        self.combo = combo
        self.modifiers, self.key = parse(combo)
        self.start, self.stop, self.cancel, self.dictating = start, stop, cancel, dictating
        self.grabbed: Any = None  # X11: the key grab that keeps the shortcut from the focused app
        self.portal: Any = None  # Wayland: the GlobalShortcuts portal's session that hears it
        self._held: set[str] = set()
        self._down = False  # the shortcut's key is held
        self._pressed_at = 0.0
        self._finishing = False  # this press finished a tapped dictation: its release does nothing
        self._release: threading.Timer | None = None
        self._lock = threading.Lock()

    def rebind(self, combo: str) -> None:
        """Listen for ``combo`` from now on (``ValueError`` if it is no shortcut)."""
        modifiers, key = parse(combo)
        with self._lock:
            self.combo, self.modifiers, self.key = combo, modifiers, key
            self._down = False
        if self.grabbed is not None:
            self.grabbed.close()
            grab(self)
        if self.portal is not None:  # the desktop may ask the user, so not on the caller's thread
            threading.Thread(target=self._rebind_portal, args=(modifiers, key), daemon=True).start()
        log.info("dictation shortcut now: %s", combo)

    def _rebind_portal(self, modifiers: frozenset[str], key: str) -> None:
        from desktop.portal import PortalUnavailable

        try:
            self.portal.bind(modifiers, key)
        except PortalUnavailable as error:
            log.warning("the desktop kept the dictation shortcut it had: %s", error)

    def pressed(self, name: str) -> None:
        with self._lock:
            if name in MODIFIERS:
                self._held.add(name)
            elif name == "esc" and self.dictating():
                self.cancel()
            elif name == self.key and self._down:  # auto-repeat: the key is still held
                if self._release is not None:
                    self._release.cancel()
                    self._release = None
            elif name == self.key and self.modifiers <= self._held:
                self._press()

    def released(self, name: str) -> None:
        with self._lock:
            if name in MODIFIERS:
                self._held.discard(name)
            elif name == self.key and self._down and self._release is None:
                held = time.monotonic() - self._pressed_at
                self._release = threading.Timer(REPEAT_SECONDS, self._let_go, args=(held,))
                self._release.daemon = True
                self._release.start()

    def down(self) -> None:
        """The whole shortcut went down: what the GlobalShortcuts portal says (no keys, no auto-repeat)."""
        with self._lock:
            if not self._down:
                self._press()

    def up(self) -> None:
        """The whole shortcut went up."""
        with self._lock:
            if self._down:
                self._lift(time.monotonic() - self._pressed_at)

    def _press(self) -> None:  # the lock held
        self._down, self._pressed_at = True, time.monotonic()
        self._finishing = self.dictating()
        (self.stop if self._finishing else self.start)()

    def _lift(self, held: float) -> None:  # the lock held
        self._down, self._release = False, None
        if not self._finishing and held >= HOLD_SECONDS and self.dictating():
            self.stop()

    def _let_go(self, held: float) -> None:
        with self._lock:
            self._lift(held)


def on_wayland() -> bool:
    return sys.platform.startswith("linux") and bool(
        os.environ.get("WAYLAND_DISPLAY") or os.environ.get("XDG_SESSION_TYPE") == "wayland"
    )


def available() -> str | None:
    """Why the global shortcut cannot work here, or ``None`` when it can."""
    if sys.platform.startswith("linux"):
        if on_wayland():
            return (
                "Wayland lets no app listen to the keyboard, and this desktop offers no GlobalShortcuts portal. "
                "Bind the command 'hush dictate toggle' to a key in your desktop's keyboard settings "
                "(GNOME: Keyboard → Custom Shortcuts; KDE: Shortcuts → Add New)."
            )
        if not os.environ.get("DISPLAY"):
            return "there is no display to listen on. Bind 'hush dictate toggle' to a key instead."
    return None


def listen(shortcut: Shortcut, heard: Callable[[str | None], None]) -> None:
    """Start listening for ``shortcut``; ``heard(note)`` learns whether it works (``None``) or why not
    (a sentence). On Wayland it is told twice: at once that it cannot yet, then, from a thread, once
    the desktop's portal answered (binding may wait for the user in a dialog)."""
    if on_wayland():
        heard(f"Hush cannot hear a global shortcut here: {available()}")
        threading.Thread(target=_through_portal, args=(shortcut, heard), name="hush-portal", daemon=True).start()
        return
    heard(_listen_to_keys(shortcut))


def _through_portal(shortcut: Shortcut, heard: Callable[[str | None], None]) -> None:
    from desktop import portal

    try:
        shortcut.portal = portal.bind(shortcut.modifiers, shortcut.key, shortcut.down, shortcut.up)
    except portal.PortalUnavailable as error:
        log.info("no GlobalShortcuts portal: %s", error)
        return
    log.info("dictation shortcut through the desktop's GlobalShortcuts portal (hold to talk, or tap)")
    heard(None)


def _listen_to_keys(shortcut: Shortcut) -> str | None:
    """Start pynput's listener for ``shortcut`` (a daemon thread); where none works, why (a sentence)."""
    problem = available()
    if problem is None:
        try:
            from pynput import keyboard

            listener = keyboard.Listener(
                on_press=lambda key: shortcut.pressed(key_name(key)),
                on_release=lambda key: shortcut.released(key_name(key)),
            )
            listener.daemon = True
            listener.start()
            if sys.platform.startswith("linux"):
                grab(shortcut)
            log.info("dictation shortcut: %s (hold to talk, or tap to start and stop; Escape cancels)", shortcut.combo)
            return None
        except Exception as error:  # pynput picks its backend at import, and raises when none works here
            problem = str(error)
    log.info("no global dictation shortcut: %s", problem)
    return f"Hush cannot hear a global shortcut here: {problem}"


def grab(shortcut: Shortcut) -> None:
    """X11: keep the shortcut from the focused app; where another program holds it, listen only."""
    from desktop import xtest

    try:
        grabbed = xtest.Grab(shortcut.modifiers, shortcut.key)
    except Exception as error:  # the listener still works; the app just sees the keys too
        log.warning("could not grab %s (%s): the focused app receives it too", shortcut.combo, error)
        return
    shortcut.grabbed = grabbed
    threading.Thread(target=grabbed.serve, name="hush-shortcut-grab", daemon=True).start()
