"""Putting dictated text into the app that has the keyboard focus: typed as keystrokes (or, as the
user chose, pasted: the clipboard saved, the text set, Ctrl+V pressed, the clipboard restored),
else left on the clipboard with a sentence saying how to paste it.

X11: real key presses through the XTest extension (``xtest.py``; characters the keyboard map lacks,
such as é, ß or € on a US map, through a spare keycode mapped for the moment). pynput's controller
sends X11 apps synthetic events instead, which some ignore, and it garbled é and – once a few
characters had been borrowed. Windows and macOS: pynput's keyboard controller. Wayland gives ordinary
apps no way to type into others: ``wtype``, ``dotool`` or ``ydotool``, whichever is installed, do it
through the compositor's virtual-keyboard protocol or uinput (and press Ctrl+V to paste). With none
of them, the text goes to the clipboard and the user pastes it.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from backend.web.schemas import Delivery

log = logging.getLogger(__name__)

PASTE = "Cmd+V" if sys.platform == "darwin" else "Ctrl+V"
#: How long the pasted text stays on the clipboard: the app asks for it after it gets Ctrl+V.
PASTE_SECONDS = 0.5
#: wtype uploads a keymap of just the characters it types; a key sent at once after it can reach the
#: app before the keymap does and is lost (sway dropped the G of "Grüße"): it waits this long first.
WTYPE_SETTLE_MS = "50"
#: A command line and what goes to its standard input (``None``: nothing).
Command = tuple[list[str], str | None]


@dataclass(frozen=True)
class WaylandTool:
    """A program that types on Wayland: how it types a text, and how it presses Ctrl+V."""

    name: str
    typing: Callable[[str, str], Command]
    pasting: Callable[[str], Command]


#: Ctrl+V as ydotool 1.x presses it: raw keycodes with their state (29 left Ctrl, 47 V; 1 down, 0 up).
YDOTOOL_CTRL_V = ["29:1", "47:1", "47:0", "29:0"]


@functools.cache
def ydotool_takes_keycodes(tool: str) -> bool:
    """Whether this ydotool is 1.x, which reads keycodes (Debian ships 0.1, which reads key names).
    Each reads the other's syntax silently as other keys (0.1 types "2" for "29:1", 1.x presses
    nothing for "ctrl+v"), so its help is asked once."""
    try:
        done = subprocess.run([tool, "key", "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "KEYCODES" in done.stdout + done.stderr


def _ydotool_paste(tool: str) -> Command:
    return ([tool, "key", *(YDOTOOL_CTRL_V if ydotool_takes_keycodes(tool) else ["ctrl+v"])], None)


#: In order of preference: wtype (the compositor's virtual-keyboard protocol: any character, no
#: daemon, wlroots compositors and KDE), dotool and ydotool (uinput: every compositor, GNOME too, but
#: they need access to /dev/uinput, and ydotool a daemon; its 0.1 and 1.x syntaxes both).
WAYLAND_TOOLS = (
    WaylandTool(
        "wtype",
        lambda tool, text: ([tool, "-s", WTYPE_SETTLE_MS, "--", text], None),
        lambda tool: ([tool, "-s", WTYPE_SETTLE_MS, "-M", "ctrl", "-k", "v", "-m", "ctrl"], None),
    ),
    WaylandTool(
        "dotool",
        lambda tool, text: ([tool], f"type {' '.join(text.splitlines())}\n"),
        lambda tool: ([tool], "key ctrl+v\n"),
    ),
    WaylandTool(
        "ydotool",
        lambda tool, text: ([tool, "type", "--file", "-"], text),
        _ydotool_paste,
    ),
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

    @property
    def on_wayland(self) -> bool:
        return sys.platform.startswith("linux") and bool(
            self.environ.get("WAYLAND_DISPLAY") or self.environ.get("XDG_SESSION_TYPE") == "wayland"
        )

    def type(self, text: str) -> None:
        """Keystrokes into the focused app; ``CannotType`` when this desktop offers no way."""
        if self.on_wayland:
            self._run_wayland_tool(lambda tool, path: tool.typing(path, text))
            return
        if sys.platform.startswith("linux") and not self.environ.get("DISPLAY"):
            raise CannotType("Hush found no display to type on.")
        if self._keyboard is None:
            self._keyboard = self._open_keyboard()
        self._keyboard.type(text)

    def paste_text(self, text: str) -> None:
        """The text through the clipboard, pasted with Ctrl+V (Cmd+V); what the clipboard held before is
        put back once the app has had time to take the text."""
        if not self.on_wayland and sys.platform.startswith("linux") and not self.environ.get("DISPLAY"):
            raise CannotType("Hush found no display to paste on.")
        try:
            earlier = self.clipboard_text()
            self.clipboard(text)
        except Exception as error:
            raise CannotType(f"Hush could not use the clipboard ({error}).") from error
        try:
            if self.on_wayland:
                self._run_wayland_tool(lambda tool, path: tool.pasting(path))
            else:
                if self._keyboard is None:
                    self._keyboard = self._open_keyboard()
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

    def _run_wayland_tool(self, command: Callable[[WaylandTool, str], Command]) -> None:
        """The first installed tool that works, given ``command(tool, its path)``; ``CannotType`` if none."""
        for tool in WAYLAND_TOOLS:
            path = shutil.which(tool.name, path=self.environ.get("PATH"))
            if path is None:
                continue
            argv, given = command(tool, path)
            done = subprocess.run(
                argv, input=given, encoding="utf-8", capture_output=True, timeout=60, env=self._utf8_environ()
            )
            if done.returncode == 0:
                return
            log.warning("%s could not type: %s", tool.name, done.stderr.strip())
        raise CannotType("Hush cannot type into other apps on Wayland by itself: install wtype (or dotool or ydotool).")

    def _utf8_environ(self) -> dict[str, str]:
        """The tools read their text in the locale's encoding (wtype: "Failed to deencode input argv"
        under C): a UTF-8 one, unless the user's already is."""
        environ = dict(self.environ)
        chosen = environ.get("LC_ALL") or environ.get("LC_CTYPE") or environ.get("LANG") or ""
        if "utf-8" not in chosen.lower() and "utf8" not in chosen.lower():
            environ["LC_ALL"] = "C.UTF-8"
        return environ


def _pynput_paste(keyboard: Any) -> None:
    """Cmd+V on macOS, Ctrl+V elsewhere, with pynput's controller (Windows, macOS)."""
    from pynput.keyboard import Key

    with keyboard.pressed(Key.cmd if sys.platform == "darwin" else Key.ctrl):
        keyboard.tap("v")
