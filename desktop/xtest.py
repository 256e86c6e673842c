"""Typing on X11 the way a keyboard does: key presses through the XTest extension.

The focused app gets real key events (not ``XSendEvent``'s synthetic ones, which xterm and others
ignore). A character on the keyboard map is typed with its key (and Shift); any other (é, ß, €, –
on a US map) is typed by mapping it for the moment onto a spare keycode, as xdotool does: the app
rereads the map after each change, so every such key waits a moment before the map changes again,
else the app could read the next character's mapping for this one. The spare key is emptied again
afterwards. python-xlib comes with pynput on Linux.
"""

from __future__ import annotations

import time

from Xlib import XK, X
from Xlib.display import Display
from Xlib.ext import xtest

#: How long a borrowed key's mapping stays after its key is typed: the app reads it meanwhile.
MAPPING_SECONDS = 0.03
SPECIAL = {"\n": XK.XK_Return, "\t": XK.XK_Tab}


class NoXTest(RuntimeError):
    pass


def keysym(char: str) -> int:
    """X's keysym for a character: Latin-1 keysyms are their code points, the rest ``0x01000000 + U``."""
    if char in SPECIAL:
        return SPECIAL[char]
    code = ord(char)
    return code if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF else 0x01000000 + code


class Keyboard:
    """One connection to the X server for typing; ``NoXTest`` where the server lacks XTest or a spare key."""

    def __init__(self, display_name: str | None = None) -> None:
        self.display = Display(display_name)
        if not self.display.has_extension("XTEST"):
            raise NoXTest("the X server has no XTest extension")
        self.first = self.display.display.info.min_keycode
        count = self.display.display.info.max_keycode - self.first + 1
        mapping = self.display.get_keyboard_mapping(self.first, count)
        self.width = len(mapping[0])
        self.keys: dict[int, tuple[int, bool]] = {}
        spare = None
        for index, syms in enumerate(mapping):
            keycode = self.first + index
            for level, sym in enumerate(syms[:2]):
                if sym and sym not in self.keys:
                    self.keys[sym] = (keycode, level == 1)
            if not any(syms):
                spare = keycode
        if spare is None:
            raise NoXTest("the keyboard map has no spare key to type other characters with")
        self.spare = spare
        self.shift = self.display.keysym_to_keycode(XK.XK_Shift_L)

    def type(self, text: str) -> None:
        borrowed = None
        try:
            for char in text:
                sym = keysym(char)
                if sym in self.keys:
                    keycode, shifted = self.keys[sym]
                    self._tap(keycode, shifted)
                    continue
                if sym != borrowed:
                    self._map_spare(sym)
                    borrowed = sym
                self._tap(self.spare, False)
                time.sleep(MAPPING_SECONDS)
        finally:
            if borrowed is not None:
                self._map_spare(X.NoSymbol)

    def paste(self) -> None:
        """Ctrl+V, as a keyboard presses it."""
        control = self.display.keysym_to_keycode(XK.XK_Control_L)
        keycode, _ = self.keys[XK.XK_v]
        xtest.fake_input(self.display, X.KeyPress, control)
        self._tap(keycode, False)
        xtest.fake_input(self.display, X.KeyRelease, control)
        self.display.sync()

    def close(self) -> None:
        self.display.close()

    def _map_spare(self, sym: int) -> None:
        self.display.change_keyboard_mapping(self.spare, [[sym, sym] + [X.NoSymbol] * (self.width - 2)])
        self.display.sync()
        time.sleep(MAPPING_SECONDS)

    def _tap(self, keycode: int, shifted: bool) -> None:
        if shifted:
            xtest.fake_input(self.display, X.KeyPress, self.shift)
        xtest.fake_input(self.display, X.KeyPress, keycode)
        xtest.fake_input(self.display, X.KeyRelease, keycode)
        if shifted:
            xtest.fake_input(self.display, X.KeyRelease, self.shift)
        self.display.sync()


#: Modifier masks the shortcut is grabbed with, besides its own: Caps Lock and Num Lock may be on.
LOCKS = (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask)
MASKS = {"ctrl": X.ControlMask, "shift": X.ShiftMask, "alt": X.Mod1Mask, "super": X.Mod4Mask}
KEYSYMS = {"space": XK.XK_space, "esc": XK.XK_Escape}


class Grab:
    """Keeps the shortcut's key presses from the focused app (a passive grab on the root window), so
    Ctrl+Shift+Space does not also type a space there; the listener hears them all the same (RECORD)."""

    def __init__(self, modifiers: frozenset[str], key: str, display_name: str | None = None) -> None:
        self.display = Display(display_name)
        sym = KEYSYMS.get(key) or XK.string_to_keysym(key)
        self.keycode = self.display.keysym_to_keycode(sym)
        if not self.keycode:
            raise NoXTest(f"the keyboard has no key {key!r}")
        mask = 0
        for modifier in modifiers:
            mask |= MASKS[modifier]
        self.root = self.display.screen().root
        failed = []
        for lock in LOCKS:
            self.root.grab_key(self.keycode, mask | lock, True, X.GrabModeAsync, X.GrabModeAsync, onerror=failed.append)
        self.display.sync()
        if failed:  # BadAccess: another program has this shortcut
            raise NoXTest("another program holds this shortcut")

    def close(self) -> None:
        """Give the shortcut back (closing the connection ends its grabs and ``serve``)."""
        self.display.close()

    def serve(self) -> None:
        """Read (and drop) the grabbed events, so the server never waits on this connection; runs until closed."""
        try:
            while True:
                self.display.next_event()
        except Exception:  # the connection closed
            return
