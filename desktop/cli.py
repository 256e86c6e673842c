"""The launcher's command line, and how each option maps onto the backend's ``Settings``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The launcher serves its own window (or the user's browser) only: never another interface.
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Options:
    """What the user asked for on the command line; ``None`` means "keep the HUSH_* value or default"."""

    browser: bool = False
    port: int | None = None
    model: str | None = None
    debug: bool = False
    hidden: bool = False
    files: tuple[Path, ...] = ()
    install: bool = False
    uninstall: bool = False

    def overrides(self) -> dict[str, Any]:
        """``Settings`` fields set by the command line; they win over HUSH_* variables."""
        values: dict[str, Any] = {"host": LOOPBACK}
        if self.port is not None:
            values["port"] = self.port
        if self.model is not None:
            values["model"] = self.model
        return values


def port_number(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (0–65535)")
    return port


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="hush",
        description="Hush: private, offline speech to text. Opens the recorder in its own window.",
        epilog="Every backend setting can also be set by a HUSH_* variable (HUSH_MODEL, HUSH_DEVICE, HUSH_PORT, "
        "HUSH_DATA_DIR, HUSH_MAX_UPLOAD_MB). The server always listens on 127.0.0.1 only.",
    )
    cli.add_argument("--browser", action="store_true", help="open the system browser instead of a window (dev mode)")
    cli.add_argument("--port", type=port_number, help="TCP port on 127.0.0.1 (default: last used if free, else any)")
    cli.add_argument("--model", help="Hugging Face id or folder of a Whisper checkpoint (HUSH_MODEL)")
    cli.add_argument("--debug", action="store_true", help="verbose logs; in the window, open the web inspector")
    cli.add_argument("--hidden", action="store_true", help="start without showing the window (in the tray; at login)")
    desktop = cli.add_mutually_exclusive_group()
    desktop.add_argument("--install", action="store_true", help="add Hush to the applications menu, then exit")
    desktop.add_argument("--uninstall", action="store_true", help="remove what --install and 'start at login' wrote")
    cli.add_argument("files", nargs="*", type=Path, metavar="FILE", help="audio or video files to transcribe")
    cli.epilog += " 'hush dictate toggle|start|stop|cancel' controls dictation in the running Hush."
    return cli


#: ``hush dictate ACTION``: what the shortcut does, for desktops that bind commands to keys (Wayland).
DICTATE = "dictate"
DICTATE_ACTIONS = ("toggle", "start", "stop", "cancel")


def dictate_parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="hush dictate",
        description="Start, finish or cancel a dictation in the running Hush: the words are typed into the app "
        "you are typing in. Bind 'hush dictate toggle' to a key in your desktop's keyboard settings.",
    )
    cli.add_argument("action", choices=DICTATE_ACTIONS, help="toggle (start or finish), start, stop, cancel")
    return cli


def parse(argv: Sequence[str] | None = None) -> Options:
    args = parser().parse_args(argv)
    return Options(
        browser=args.browser,
        port=args.port,
        model=args.model,
        debug=args.debug,
        hidden=args.hidden,
        files=tuple(args.files),
        install=args.install,
        uninstall=args.uninstall,
    )
