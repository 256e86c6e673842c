"""What the launcher remembers between launches: the window's size and place, the last port, and
whether closing the window keeps Hush running.

Keeping the port keeps the page's origin, so what the page stores (localStorage) and a browser's
microphone permission in ``--browser`` mode survive a restart.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

STATE_FILE = "desktop.json"
DEFAULT_SIZE = (1000, 760)
MIN_SIZE = (800, 600)
#: How much of the title bar must lie on a screen for a remembered position to be reused.
GRIP = (120, 40)


class Rect(Protocol):
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Geometry:
    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]
    x: int | None = None
    y: int | None = None
    maximized: bool = False

    def fitted(self, screens: Sequence[Rect]) -> Geometry:
        """Fit the screens present now: a position on an unplugged monitor is dropped (the window is
        centred instead) and the size is kept between the minimum and the screen's size."""
        width, height = max(self.width, MIN_SIZE[0]), max(self.height, MIN_SIZE[1])
        if not screens:
            return replace(self, width=width, height=height)
        x, y, home = self.x, self.y, screens[0]
        if x is not None and y is not None:
            home = next((s for s in screens if _overlaps(s, x, y)), None)
            if home is None:
                x = y = None
                home = screens[0]
        return replace(self, width=min(width, home.width), height=min(height, home.height), x=x, y=y)


def _overlaps(screen: Rect, x: int, y: int) -> bool:
    return (
        x + GRIP[0] > screen.x
        and x < screen.x + screen.width - GRIP[0] // 2
        and y + GRIP[1] > screen.y
        and y < screen.y + screen.height - GRIP[1]
    )


@dataclass
class State:
    window: Geometry = field(default_factory=Geometry)
    port: int | None = None
    #: Closing the window keeps Hush running (in the tray): the user's choice in the page's settings;
    #: ``None`` until they choose (then it is on where the dictation shortcut is heard: ``Controls``).
    keep_running: bool | None = None
    #: The global dictation shortcut (``desktop/shortcut.py``), as the user set it in the page.
    dictation_shortcut: str = "ctrl+shift+space"
    #: Dictation pastes (clipboard saved, text set, Ctrl+V, clipboard restored) instead of typing.
    dictation_paste: bool = False
    #: A space after each dictation's text, so the next one does not run into it.
    dictation_trailing_space: bool = False
    #: The dictation's text also stays on the clipboard after it is typed.
    dictation_keep_on_clipboard: bool = False


def load(folder: Path) -> State:
    """The remembered state; a missing or damaged file gives the defaults."""
    try:
        data = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        port = data.get("port")
        return State(
            window=Geometry(**{k: v for k, v in data.get("window", {}).items() if k in Geometry.__dataclass_fields__}),
            port=port if isinstance(port, int) and 0 < port < 65536 else None,
            keep_running=keep if isinstance(keep := data.get("keep_running"), bool) else None,
            dictation_paste=data.get("dictation_paste") is True,
            dictation_trailing_space=data.get("dictation_trailing_space") is True,
            dictation_keep_on_clipboard=data.get("dictation_keep_on_clipboard") is True,
            **({"dictation_shortcut": shortcut} if isinstance(shortcut := data.get("dictation_shortcut"), str) else {}),
        )
    except FileNotFoundError:
        return State()
    except (OSError, ValueError, TypeError, AttributeError) as error:
        log.warning("ignoring %s: %s", folder / STATE_FILE, error)
        return State()


def save(folder: Path, state: State) -> None:
    """Write atomically, so a crash mid-write cannot leave a file that loses the next launch's state."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{STATE_FILE}.{os.getpid()}"
        temporary.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
        temporary.replace(folder / STATE_FILE)
    except OSError as error:
        log.warning("could not remember the window state in %s: %s", folder, error)
