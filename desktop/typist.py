"""Putting dictated text into the app that has the keyboard focus: typed as keystrokes (or, as the
user chose, pasted: the clipboard saved, the text set, Ctrl+V pressed, the clipboard restored),
else left on the clipboard with a sentence saying how to paste it.

X11: real key presses through the XTest extension (``xtest.py``; characters the keyboard map lacks,
such as é, ß or € on a US map, through a spare keycode mapped for the moment). pynput's controller
sends X11 apps synthetic events instead, which some ignore, and it garbled é and – once a few
characters had been borrowed. Windows and macOS: pynput's keyboard controller. Wayland gives ordinary
apps no way to type into others: ``wtype``, ``dotool`` or ``ydotool``, whichever is installed, do it
through the compositor's virtual-keyboard protocol or uinput. With none of them, the text goes to
the clipboard and the user pastes it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from backend.web.schemas import Delivery

log = logging.getLogger(__name__)

PASTE = "Cmd+V" if sys.platform == "darwin" else "Ctrl+V"
#: How long the pasted text stays on the clipboard: the app asks for it after it gets Ctrl+V.
PASTE_SECONDS = 0.5
#: Wayland typing tools, in order of preference, and how each is given the text.
WAYLAND_TOOLS: tuple[tuple[str, Callable[[str, str], tuple[list[str], str | None]]], ...] = (
    ("wtype", lambda tool, text: ([tool, "--", text], None)),
    ("dotool", lambda tool, text: ([tool], f"type {text}\n")),
    ("ydotool", lambda tool, text: ([tool, "type", "--file", "-"], text)),
)


class CannotType(RuntimeError):
    """No way to type here; the message says what the user can do (install a tool, paste)."""


class Typist:
    """Types (or pastes) text into the focused app; ``clipboard(text)`` puts it on the clipboard when it
    cannot, ``clipboard_text()`` reads what is there to restore it after a paste."""

    def __init__(
        self,
        clipboard: Callable[[str], None],
        clipboard_text: Callable[[], str | None] = lambda: None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.clipboard = clipboard
        self.clipboard_text = clipboard_text
        self.environ = environ
        self.paste = False
        self.trailing_space = False  # a space after the text, so the next dictation does not run into it
        self.keep_on_clipboard = False  # the text also stays on the clipboard once typed or pasted
        self._keyboard: Any = None
        self._lock = threading.Lock()  # one text at a time: two dictations must not interleave their keys

    def deliver(self, text: str) -> Delivery:
        if not text:
            return Delivery(method="nothing")
        if self.trailing_space:
            text += " "
        with self._lock:
            try:
                if self.paste:
                    self.paste_text(text)
                else:
                    self.type(text)
                if self.keep_on_clipboard:
                    self.clipboard(text)
                return Delivery(method="pasted" if self.paste else "typed")
            except CannotType as error:
                reason = str(error)
            try:
                self.clipboard(text)
            except Exception as error:  # no clipboard either (e.g. Hush in the browser)
                log.warning("could not type nor copy the dictation: %s; %s", reason, error)
                return Delivery(method="nothing", message=f"{reason} Hush could not copy it either: see its history.")
            pasting = f"The text is on the clipboard: paste it with {PASTE}."
            return Delivery(method="clipboard", message=f"{reason} {pasting}")

    def type(self, text: str) -> None:
        """Keystrokes into the focused app; ``CannotType`` when this desktop offers no way."""
        if sys.platform.startswith("linux") and (
            self.environ.get("WAYLAND_DISPLAY") or self.environ.get("XDG_SESSION_TYPE") == "wayland"
        ):
            self._type_on_wayland(text)
            return
        if sys.platform.startswith("linux") and not self.environ.get("DISPLAY"):
            raise CannotType("Hush found no display to type on.")
        if self._keyboard is None:
            self._keyboard = self._open_keyboard()
        self._keyboard.type(text)

    def paste_text(self, text: str) -> None:
        """The text through the clipboard, pasted with Ctrl+V (Cmd+V); what the clipboard held before is
        put back once the app has had time to take the text."""
        if sys.platform.startswith("linux") and not self.environ.get("DISPLAY"):
            raise CannotType("Hush found no display to paste on.")
        try:
            earlier = self.clipboard_text()
            self.clipboard(text)
        except Exception as error:
            raise CannotType(f"Hush could not use the clipboard ({error}).") from error
        if self._keyboard is None:
            self._keyboard = self._open_keyboard()
        try:
            self._keyboard.paste() if hasattr(self._keyboard, "paste") else _pynput_paste(self._keyboard)
            time.sleep(PASTE_SECONDS)
        finally:
            if earlier is not None:
                self.clipboard(earlier)

    def _open_keyboard(self) -> Any:
        try:
            if sys.platform.startswith("linux"):
                from desktop import xtest

                return xtest.Keyboard(self.environ.get("DISPLAY"))
            from pynput.keyboard import Controller

            return Controller()
        except Exception as error:  # no X server, no XTest; pynput raises at import when no backend works
            raise CannotType(f"Hush cannot type on this desktop ({error}).") from error

    def _type_on_wayland(self, text: str) -> None:
        for name, command in WAYLAND_TOOLS:
            tool = shutil.which(name, path=self.environ.get("PATH"))
            if tool is None:
                continue
            argv, given = command(tool, text)
            done = subprocess.run(argv, input=given, text=True, capture_output=True, timeout=60, env=dict(self.environ))
            if done.returncode == 0:
                return
            log.warning("%s could not type: %s", name, done.stderr.strip())
        raise CannotType("Hush cannot type into other apps on Wayland by itself: install wtype (or dotool or ydotool).")


def _pynput_paste(keyboard: Any) -> None:
    """Cmd+V on macOS, Ctrl+V elsewhere, with pynput's controller (Windows, macOS)."""
    from pynput.keyboard import Key

    with keyboard.pressed(Key.cmd if sys.platform == "darwin" else Key.ctrl):
        keyboard.tap("v")
