"""The clipboard of windows that are not Qt's (desktop/clipboard.py: pyperclip), here as pyperclip
reaches it on Linux (xclip, under Xvfb); other X clients read and write the same selection."""

from __future__ import annotations

import subprocess

import pyperclip
import pytest

from desktop import clipboard
from tests.support.helpers import require_tool

TEXT = "Grüße – é, ß, “quoted”"


@pytest.fixture
def x_clipboard(display, monkeypatch):
    """pyperclip on the test display, choosing its mechanism afresh (xclip here)."""
    require_tool("xclip")
    monkeypatch.setenv("DISPLAY", display.name)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    copy, paste = pyperclip.determine_clipboard()
    monkeypatch.setattr(pyperclip, "copy", copy)
    monkeypatch.setattr(pyperclip, "paste", paste)
    return display


@pytest.mark.desktop
def test_text_put_on_the_clipboard_is_what_other_apps_paste(x_clipboard):
    clipboard.set_text(TEXT)
    assert x_clipboard.clipboard() == TEXT  # read by Tk, another X client


@pytest.mark.desktop
def test_what_another_app_copied_is_read_back_and_an_empty_clipboard_is_none(x_clipboard):
    env = {"DISPLAY": x_clipboard.name}
    subprocess.run(["xclip", "-selection", "clipboard"], input=TEXT.encode(), env=env, check=True, timeout=10)
    assert clipboard.get_text() == TEXT
    clipboard.set_text("")
    assert clipboard.get_text() is None


def test_no_way_to_the_clipboard_is_a_sentence_not_a_stack_trace(monkeypatch):
    copy, paste = pyperclip.init_no_clipboard()
    monkeypatch.setattr(pyperclip, "copy", copy)
    monkeypatch.setattr(pyperclip, "paste", paste)
    with pytest.raises(ValueError, match=r"^Hush cannot reach the clipboard here \(Pyperclip could not find"):
        clipboard.set_text(TEXT)
    with pytest.raises(ValueError, match="Hush cannot reach the clipboard here"):
        clipboard.get_text()
