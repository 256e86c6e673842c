"""The dictation shortcut's hold and tap modes and Escape, from key events (desktop/shortcut.py);
the real listener under Xvfb is driven in test_dictation.py."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from desktop import shortcut
from desktop.shortcut import Shortcut
from tests.support.helpers import wait_until


class Dictation:
    def __init__(self) -> None:
        self.actions: list[str] = []
        self.on = False

    def make(self) -> Shortcut:
        def act(name: str, on: bool):
            def run() -> None:
                self.actions.append(name)
                self.on = on

            return run

        return Shortcut(
            "ctrl+shift+space", act("start", True), act("stop", False), act("cancel", False), lambda: self.on
        )


def press(keys: Shortcut, *names: str) -> None:
    for name in names:
        keys.pressed(name)


def release(keys: Shortcut, *names: str) -> None:
    for name in names:
        keys.released(name)


def test_hold_to_talk_release_to_finish_even_with_auto_repeat():
    dictation = Dictation()
    keys = dictation.make()
    press(keys, "ctrl", "shift", "space")
    assert dictation.actions == ["start"]
    deadline = time.monotonic() + shortcut.HOLD_SECONDS + 0.2
    while time.monotonic() < deadline:  # the keyboard repeats the held key: release and press pairs
        release(keys, "space")
        press(keys, "space")
        time.sleep(0.03)
    release(keys, "space", "shift", "ctrl")
    wait_until(lambda: dictation.actions == ["start", "stop"], 5, "the release to finish the dictation")


def test_tap_to_start_and_tap_again_to_finish():
    dictation = Dictation()
    keys = dictation.make()
    press(keys, "ctrl", "shift", "space")
    release(keys, "space", "shift", "ctrl")
    wait_until(lambda: not keys._down, 5, "the tap's release")
    assert dictation.actions == ["start"] and dictation.on
    press(keys, "ctrl", "shift", "space")
    assert dictation.actions == ["start", "stop"]
    release(keys, "space")
    wait_until(lambda: not keys._down, 5, "the second tap's release")
    assert dictation.actions == ["start", "stop"]


def test_escape_cancels_only_a_dictation_and_other_keys_do_nothing():
    dictation = Dictation()
    keys = dictation.make()
    press(keys, "esc", "space", "shift", "space")  # no Ctrl: not the shortcut
    assert dictation.actions == []
    release(keys, "space", "shift")
    press(keys, "ctrl", "shift", "space")
    press(keys, "esc")
    assert dictation.actions == ["start", "cancel"]


def test_shortcuts_are_parsed_and_keys_named():
    assert shortcut.parse("Ctrl+Alt+D") == (frozenset({"ctrl", "alt"}), "d")
    with pytest.raises(ValueError):
        shortcut.parse("ctrl+shift")
    # pynput's keys as its listener gives them (importing pynput needs a display): Key members have a
    # name, KeyCodes a char.
    keys = [SimpleNamespace(name=n) for n in ("ctrl_r", "shift", "space", "esc", "cmd", "alt_gr")]
    keys.append(SimpleNamespace(char="D"))
    assert [shortcut.key_name(k) for k in keys] == ["ctrl", "shift", "space", "esc", "super", "alt", "d"]
