"""The system clipboard where the window is not Qt's (Windows, macOS; GTK on Linux): pyperclip.

Dictation needs it to paste (the clipboard saved, the text set, Ctrl+V, the clipboard put back) and
as its last resort (the text left there with a sentence). With Qt, ``qt.py`` reaches the clipboard
itself. pyperclip speaks the platform's own API (Win32 through ctypes, pbcopy/pbpaste on macOS,
xclip, xsel or wl-clipboard on Linux): by hand that is a native API per platform.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def set_text(text: str) -> None:
    """Put ``text`` on the clipboard; ``ValueError`` with a sentence when this system has no way to."""
    with _reached() as pyperclip:
        pyperclip.copy(text)


def get_text() -> str | None:
    """The clipboard's text; ``None`` when it holds none (or something other than text)."""
    with _reached() as pyperclip:
        return pyperclip.paste() or None


@contextmanager
def _reached() -> Iterator[Any]:
    """pyperclip, its failure as the sentence both directions give: its "no mechanism" message runs on
    with a web address, so only its first line is kept."""
    import pyperclip

    try:
        yield pyperclip
    except pyperclip.PyperclipException as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"Hush cannot reach the clipboard here ({reason}).") from error
