"""The system clipboard where the window is not Qt's (Windows, macOS; GTK on Linux): pyperclip.

Dictation needs it to paste (the clipboard saved, the text set, Ctrl+V, the clipboard put back) and
as its last resort (the text left there with a sentence). With Qt, ``qt.py`` reaches the clipboard
itself. pyperclip speaks the platform's own API (Win32 through ctypes, pbcopy/pbpaste on macOS,
xclip, xsel or wl-clipboard on Linux): by hand that is a native API per platform.
"""

from __future__ import annotations


def set_text(text: str) -> None:
    """Put ``text`` on the clipboard; ``ValueError`` with a sentence when this system has no way to."""
    import pyperclip

    try:
        pyperclip.copy(text)
    except pyperclip.PyperclipException as error:
        raise ValueError(f"Hush cannot reach the clipboard here ({_first_line(error)}).") from error


def get_text() -> str | None:
    """The clipboard's text; ``None`` when it holds none (or something other than text)."""
    import pyperclip

    try:
        return pyperclip.paste() or None
    except pyperclip.PyperclipException as error:
        raise ValueError(f"Hush cannot reach the clipboard here ({_first_line(error)}).") from error


def _first_line(error: Exception) -> str:
    """pyperclip's "no mechanism" message runs on with a web address; its first sentence says enough."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
