"""Dictation into another app, under Xvfb: the real window records through the fake microphone
(an espeak-ng sentence), real whisper-tiny.en transcribes, and the words are typed through XTest
into a separate Tk program that has the keyboard focus (``tests/support/text_target.py``).

The shortcut is held and tapped with XTest (``xdotool keydown``/``keyup``), as a person's keyboard
would; ``hush dictate toggle`` is run from a shell as a desktop's key binding would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop import instance
from tests.support.desktop import (
    NOT_YET,
    OUTPUT,
    PAINTED,
    PHRASE,
    RECORD_SECONDS,
    TITLE,
    App,
    Display,
    free_port,
    open_page,
    running,
    save_report,
    window_environment,
    xdotool,
)
from tests.support.helpers import ROOT, require_tool, wait_until

TARGET = ROOT / "tests" / "support" / "text_target.py"
TARGET_TITLE = "Dictation target"
SHORTCUT = "ctrl+shift+space"
INDICATOR = "Hush dictation"
EARLIER_CLIPBOARD = "copied earlier: Straße"


@pytest.fixture(scope="module")
def checkpoint(tiny_en_converted) -> Path:
    return tiny_en_converted


@dataclass
class Target:
    """The Tk program, its X window and what it last wrote about itself."""

    display: Display
    window: str
    state_file: Path

    def state(self) -> dict:
        return json.loads(self.state_file.read_text(encoding="utf-8"))

    def text(self) -> str:
        return self.state()["text"]

    def focus(self) -> None:
        xdotool(self.display, "windowfocus", "--sync", self.window)

    def has_focus(self) -> bool:
        return xdotool(self.display, "getwindowfocus") == self.window

    def __repr__(self) -> str:
        return f"the target app holding {self.text()!r}"


@pytest.fixture
def target(display, tmp_path) -> Iterator[Target]:
    state_file = tmp_path / "target.json"
    process = subprocess.Popen(
        [sys.executable, str(TARGET), str(state_file), EARLIER_CLIPBOARD],
        env={**os.environ, "DISPLAY": display.name},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        window = wait_until(
            lambda: subprocess.run(
                [require_tool("xdotool"), "search", "--onlyvisible", "--name", f"^{TARGET_TITLE}$"],
                env={**os.environ, "DISPLAY": display.name},
                capture_output=True,
                text=True,
            ).stdout.split(),
            30,
            "the target app's window",
        )[0]
        wait_until(state_file.is_file, 30, "the target app's first state")
        found = Target(display, window, state_file)
        found.focus()
        wait_until(found.has_focus, 10, "the keyboard focus on the target app")
        yield found
    finally:
        process.terminate()
        process.wait(10)


def words(text: str) -> list[str]:
    return text.lower().replace(".", " ").replace(",", " ").split()


def test_non_ascii_text_arrives_intact_through_xtest(display, target, monkeypatch):
    monkeypatch.setenv("DISPLAY", display.name)
    from desktop.typist import Typist

    copied = []
    text = "Grüße aus Köln: café, naïve Straße, «über» – 12 € ok."
    delivery = Typist(copied.append, environ={"DISPLAY": display.name}).deliver(text)
    assert delivery.method == "typed" and copied == []
    arrived = wait_until(lambda: t if len(t := target.text()) >= len(text) else None, 20, "the text")
    assert arrived == text, f"{arrived!r} arrived instead of {text!r}"


@pytest.mark.desktop
def test_dictation_types_into_the_focused_app(display, target, checkpoint, microphone, tmp_path):
    data = tmp_path / "data"
    debug_port = free_port()
    env = window_environment(display, data, microphone, debug_port)
    app = App([sys.executable, "-m", "desktop", "--model", str(checkpoint)], env, OUTPUT / "dictation.log")
    report: dict[str, float | str] = {}
    with running(app):
        app.wait_for_window(display)
        page = open_page(debug_port, app.wait_for_url())
        wait_until(
            lambda: page.evaluate("document.querySelector('#model-pill').dataset.state") == "ready",
            180,
            "the model",
            ignoring=NOT_YET,
        )
        running_hush = wait_until(lambda: instance.read(data), 30, "the instance file")
        target.focus()
        wait_until(target.has_focus, 10, "the focus back on the target app")

        def phase() -> str | None:
            return page.evaluate("document.documentElement.dataset.dictation || null")

        def history() -> list[dict]:
            return running_hush.call("GET", "api/transcriptions")["items"]

        def dictated(start, stop, name: str) -> str:
            """One dictation started and finished by ``start``/``stop``: the text that arrived."""
            before = target.text()
            start()
            wait_until(lambda: phase() == "recording", 20, f"{name}: the recording", ignoring=NOT_YET)
            assert target.has_focus(), f"{name}: the focus moved when the dictation started"
            time.sleep(RECORD_SECONDS)  # the fake microphone speaks the sentence meanwhile
            released = time.monotonic()
            stop()
            new = wait_until(
                lambda: set(PHRASE.split()) <= set(words(t := target.text()[len(before) :])) and t,
                60,
                f"{name}: the sentence's words in {target!r}",
                ignoring=(OSError, ValueError),
            )
            report[f"{name}: release to text in the target app (s)"] = round(time.monotonic() - released, 2)
            assert target.has_focus(), f"{name}: the focus moved"
            wait_until(lambda: display.find(INDICATOR) is None, 10, f"{name}: the indicator gone", ignoring=NOT_YET)
            return new

        # Hold: press and keep the keys down while speaking, release to finish.
        held = dictated(
            lambda: xdotool(display, "keydown", SHORTCUT),
            lambda: xdotool(display, "keyup", SHORTCUT),
            "hold",
        )
        first = history()[0]
        assert first["dictation"] is True and first["status"] == "done"
        assert held == first["text"].strip()  # exactly the text: the shortcut's keys typed nothing

        # Tap: once to start, once to finish.
        dictated(lambda: xdotool(display, "key", SHORTCUT), lambda: xdotool(display, "key", SHORTCUT), "tap")

        # From a shell, as a desktop's key binding runs it (Wayland).
        def hush_dictate(action: str) -> None:
            done = subprocess.run(
                [sys.executable, "-m", "desktop", "dictate", action],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr

        dictated(lambda: hush_dictate("toggle"), lambda: hush_dictate("toggle"), "hush dictate toggle")

        # Escape cancels: nothing typed, the recording kept in the history as a cancelled dictation.
        before, count = target.text(), len(history())
        xdotool(display, "key", SHORTCUT)
        wait_until(lambda: phase() == "recording", 20, "the recording to cancel", ignoring=NOT_YET)
        wait_until(lambda: display.find(INDICATOR), 10, "the indicator", ignoring=NOT_YET)
        assert target.has_focus()
        display.screenshot(OUTPUT / "dictation-indicator.png")
        xdotool(display, "key", "Escape")
        cancelled = wait_until(
            lambda: len(items := history()) > count and items[0]["status"] != "queued" and items[0],
            30,
            "the cancelled dictation",
        )
        assert cancelled["status"] == "cancelled" and cancelled["dictation"] is True
        assert target.text() == before and target.has_focus()
        wait_until(lambda: display.find(INDICATOR) is None, 10, "the indicator gone", ignoring=NOT_YET)

        # Another shortcut, chosen in the page's "This app" panel by pressing it.
        page.click("#desktop-open")
        page.click("#desktop-shortcut")
        wait_until(
            lambda: "Press the keys" in page.evaluate("document.querySelector('#desktop-shortcut').textContent"), 5
        )
        for kind in ("rawKeyDown", "keyUp"):  # Ctrl+Alt+D (modifiers: Alt 1, Ctrl 2)
            page.call("Input.dispatchKeyEvent", type=kind, modifiers=3, key="d", code="KeyD", windowsVirtualKeyCode=68)
        wait_until(lambda: running_hush.call("GET", "api/desktop")["dictation_shortcut"] == "ctrl+alt+d", 10, "saved")
        wait_until(lambda: page.evaluate("document.querySelector('#desktop-shortcut').textContent") == "Ctrl+Alt+D", 5)
        page.evaluate(PAINTED)
        display.screenshot(OUTPUT / "dictation-shortcut-setting.png", TITLE)
        page.click("#desktop-close")
        target.focus()
        wait_until(target.has_focus, 10, "the focus back on the target app")
        dictated(lambda: xdotool(display, "key", "ctrl+alt+d"), lambda: xdotool(display, "key", "ctrl+alt+d"), "new")

        # Pasting instead of typing: the text arrives, the clipboard holds what it held before.
        assert clipboard(display) == EARLIER_CLIPBOARD
        running_hush.call("PATCH", "api/desktop", {"dictation_paste": True})
        dictated(lambda: xdotool(display, "key", "ctrl+alt+d"), lambda: xdotool(display, "key", "ctrl+alt+d"), "paste")
        wait_until(lambda: clipboard(display) == EARLIER_CLIPBOARD, 10, "the clipboard restored")

        listed = (
            "[...document.querySelectorAll('#history-list li')]"
            ".filter(li => li.textContent.includes('Dictation')).length"
        )
        page.evaluate("window.dispatchEvent(new CustomEvent('hush:shown'))")  # the history refreshes
        wait_until(lambda: page.evaluate(listed) >= 6, 10, "the dictations marked in the history", ignoring=NOT_YET)
        page.close()
    save_report("desktop-dictation", report)


def clipboard(display: Display) -> str:
    """The CLIPBOARD selection's text, read by another X client (Tk)."""
    read = "import tkinter; root = tkinter.Tk(); root.withdraw(); print(root.clipboard_get(), end='')"
    done = subprocess.run(
        [sys.executable, "-c", read], env={**os.environ, "DISPLAY": display.name}, capture_output=True, timeout=30
    )
    return done.stdout.decode() if done.returncode == 0 else ""


@pytest.mark.desktop
def test_where_nothing_can_type_the_text_goes_to_the_clipboard_with_a_sentence(
    display, target, checkpoint, microphone, tmp_path
):
    """A Wayland session without wtype, dotool or ydotool (the window itself still on X11 through
    XWayland): the dictation is started from a shell, and its text is left on the clipboard."""
    data = tmp_path / "data"
    debug_port = free_port()
    env = window_environment(display, data, microphone, debug_port)
    env |= {"WAYLAND_DISPLAY": "hush-test-no-compositor", "QT_QPA_PLATFORM": "xcb"}
    app = App([sys.executable, "-m", "desktop", "--model", str(checkpoint)], env, OUTPUT / "dictation-clipboard.log")
    with running(app):
        app.wait_for_window(display)
        page = open_page(debug_port, app.wait_for_url())
        wait_until(
            lambda: page.evaluate("document.querySelector('#model-pill').dataset.state") == "ready",
            180,
            "the model",
            ignoring=NOT_YET,
        )
        hush = wait_until(lambda: instance.read(data), 30, "the instance file")
        assert "hush dictate toggle" in hush.call("GET", "api/desktop")["dictation_shortcut_note"]  # the page says it
        target.focus()
        wait_until(target.has_focus, 10, "the focus back on the target app")
        before = target.text()

        def hush_dictate(action: str) -> None:
            done = subprocess.run(
                [sys.executable, "-m", "desktop", "dictate", action], env=env, cwd=ROOT, capture_output=True, timeout=60
            )
            assert done.returncode == 0, done.stderr

        hush_dictate("toggle")
        wait_until(
            lambda: page.evaluate("document.documentElement.dataset.dictation") == "recording",
            20,
            "the recording",
            ignoring=NOT_YET,
        )
        time.sleep(RECORD_SECONDS)
        hush_dictate("toggle")
        done = wait_until(
            lambda: (
                (items := hush.call("GET", "api/transcriptions")["items"]) and items[0]["status"] == "done" and items[0]
            ),
            60,
            "the dictation's transcript",
        )
        assert done["dictation"] is True
        text = done["text"].strip()
        assert set(PHRASE.split()) <= set(words(text))
        wait_until(lambda: clipboard(display) == text, 20, "the text on the clipboard")
        wait_until(lambda: display.find(INDICATOR), 10, "the indicator's sentence", ignoring=NOT_YET)
        display.screenshot(OUTPUT / "dictation-clipboard.png")
        toast = page.evaluate("document.querySelector('#toast')?.textContent || ''")
        assert "install wtype" in toast and "paste it with Ctrl+V" in toast, toast
        assert target.text() == before and target.has_focus()  # nothing typed, the focus where it was
        page.close()
