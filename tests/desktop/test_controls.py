"""The desktop controls' side of dictation (desktop/controls.py): what the indicator is told."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend.web.schemas import DictationProgress, IndicatorState
from desktop import state
from desktop.controls import HINT, HINT_BOUND, HINT_PORTAL, LISTENING, Controls
from desktop.shortcut import Shortcut


class Indicator:
    """A surface that records what the indicator is told."""

    tray = False

    def __init__(self) -> None:
        self.told: list[tuple[str | None, str | None]] = []

    def dictate(self, action: str) -> None:
        pass

    def indicate(self, text, seconds=None, *, hint=None, level=None) -> None:
        self.told.append((text, hint))

    def showing(self) -> IndicatorState:
        return IndicatorState(text=self.told[-1][0] if self.told else None)


def heard_through(how: str) -> tuple[Shortcut, str | None]:
    """The shortcut and the listener's note (``controls.listen``): heard by Hush's own key listener,
    by the desktop's portal, or not at all (Wayland without the portal: a key bound by the user)."""
    keys = Shortcut("ctrl+shift+space", *(lambda: None,) * 3, dictating=lambda: False)
    if how == "the GlobalShortcuts portal":
        keys.portal = SimpleNamespace()
    if how == "bound in the desktop's settings":
        return keys, "Hush cannot hear a global shortcut here: bind 'hush dictate toggle' to a key."
    return keys, None


@pytest.mark.parametrize(
    ("how", "hint"),
    [
        ("Hush's own key listener", HINT),
        ("the GlobalShortcuts portal", HINT_PORTAL),
        ("bound in the desktop's settings", HINT_BOUND),
    ],
)
def test_the_indicator_says_how_to_finish_and_cancel_as_this_desktop_hears_keys(tmp_path, how, hint):
    controls = Controls(tmp_path, state.State())
    controls.listen(*heard_through(how))
    surface = Indicator()
    controls.attach(surface)
    controls.dictate("start")
    controls.progress(DictationProgress(level=0.5, text="hello"))
    assert surface.told == [(LISTENING, hint), ("hello", hint)]
    assert ("Esc" in hint) == (how == "Hush's own key listener")  # Escape only where Hush hears it
