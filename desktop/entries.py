"""Hush in the applications menu and at login: freedesktop desktop entries and the hicolor icons.

``hush --install`` (or the page's settings) writes ``hush.desktop`` into the user's applications
folder and the icon into the hicolor theme; ``hush --uninstall`` removes exactly those files.
"Start at login" is a second entry in the autostart folder that starts Hush hidden (in the tray).
Paths follow the XDG base directory specification (``XDG_DATA_HOME``, ``XDG_CONFIG_HOME``), so a
test can point them at a temporary home. Linux and the BSDs only: Windows (the Run key) and macOS
(a login item) are described in the README, not written.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop import icons

log = logging.getLogger(__name__)

APP_ID = "hush"
#: The window's WM_CLASS class (``window.py`` sets it through Qt), so docks group the window with the entry.
WM_CLASS = "Hush"
#: What the file manager may open with Hush: what PyAV decodes and people have.
MIME_TYPES = (
    "audio/mpeg", "audio/x-wav", "audio/wav", "audio/flac", "audio/x-flac", "audio/ogg", "audio/x-vorbis+ogg",
    "audio/x-opus+ogg", "audio/aac", "audio/mp4", "audio/x-m4a", "audio/webm", "audio/x-ms-wma", "audio/amr",
    "video/mp4", "video/webm", "video/x-matroska", "video/quicktime", "video/ogg", "video/x-msvideo", "video/mpeg",
)  # fmt: skip
#: Starting Hush at login: hidden (in the tray), so logging in does not open a window.
HIDDEN = "--hidden"


def supported() -> bool:
    """Desktops that read freedesktop entries."""
    return sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


@dataclass(frozen=True)
class Places:
    """Where each file goes, for this user."""

    menu_entry: Path
    autostart_entry: Path
    png_icons: dict[int, Path]
    svg_icon: Path

    @property
    def icons(self) -> tuple[Path, ...]:
        return (*self.png_icons.values(), self.svg_icon)

    @classmethod
    def here(cls) -> Places:
        theme = data_home() / "icons" / "hicolor"
        return cls(
            menu_entry=data_home() / "applications" / f"{APP_ID}.desktop",
            autostart_entry=config_home() / "autostart" / f"{APP_ID}.desktop",
            png_icons={size: theme / f"{size}x{size}" / "apps" / f"{APP_ID}.png" for size in icons.SIZES},
            svg_icon=theme / "scalable" / "apps" / f"{APP_ID}.svg",
        )


def command() -> list[str]:
    """How to start this Hush: the single executable (its path, passed on by its bootstrap), a
    frozen folder's program, or this Python running the launcher."""
    if getattr(sys, "frozen", False):
        return [os.environ.get("HUSH_EXECUTABLE") or sys.executable]
    return [sys.executable, "-m", "desktop"]


def exec_line(arguments: list[str]) -> str:
    """An ``Exec`` value: arguments quoted where the desktop entry specification asks for it."""
    return " ".join(_quote(argument) for argument in arguments)


def _quote(argument: str) -> str:
    if argument.startswith("%") or not any(c in argument for c in " \t\n\"'\\><~|&;$*?#()`"):
        return argument
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in argument)
    return '"' + escaped.replace("\\", "\\\\") + '"'  # the entry's string escaping, over the Exec quoting


def entry(arguments: list[str], *, autostart: bool = False) -> str:
    """The text of Hush's desktop entry (the autostart one starts it hidden and is not for menus)."""
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",  # the newest desktop-file-validate (Debian 0.27) knows
        "Name=Hush",
        "GenericName=Speech to Text",
        "Comment=Private, offline speech to text: record or open audio, get the words",
        f"Exec={exec_line([*arguments, HIDDEN] if autostart else [*arguments, '%F'])}",
        f"Icon={APP_ID}",
        "Terminal=false",
        f"StartupWMClass={WM_CLASS}",
    ]
    if autostart:
        lines += ["NoDisplay=true", "X-GNOME-Autostart-enabled=true"]
    else:
        lines += [
            "Categories=AudioVideo;Audio;Utility;",
            "Keywords=transcribe;transcription;dictation;speech;voice;whisper;subtitles;",
            f"MimeType={';'.join(MIME_TYPES)};",
            "StartupNotify=true",
        ]
    return "\n".join(lines) + "\n"


def is_installed(places: Places | None = None) -> bool:
    return (places or Places.here()).menu_entry.is_file()


def starts_at_login(places: Places | None = None) -> bool:
    return (places or Places.here()).autostart_entry.is_file()


def install(places: Places | None = None) -> list[Path]:
    """Write the menu entry and the icons; the files written."""
    places = places or Places.here()
    written = [_write(path, icons.render(size)) for size, path in places.png_icons.items()]
    written.append(_write(places.svg_icon, icons.svg_path().read_bytes()))
    written.append(_write(places.menu_entry, entry(command()).encode()))
    _refresh(["update-desktop-database", str(places.menu_entry.parent)])
    _refresh(["gtk-update-icon-cache", "--quiet", "--ignore-theme-index", str(data_home() / "icons" / "hicolor")])
    return written


def uninstall(places: Places | None = None) -> list[Path]:
    """Remove what ``install`` and ``set_start_at_login`` wrote, nothing else; the files removed."""
    places = places or Places.here()
    removed = [path for path in (places.menu_entry, places.autostart_entry, *places.icons) if _remove(path)]
    if removed:
        _refresh(["update-desktop-database", str(places.menu_entry.parent)])
    return removed


def set_start_at_login(on: bool, places: Places | None = None) -> None:
    places = places or Places.here()
    if on:
        _write(places.autostart_entry, entry(command(), autostart=True).encode())
    else:
        _remove(places.autostart_entry)


def _write(path: Path, data: bytes) -> Path:
    """Atomically: a menu that reads the entry while it is written sees the old one or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_bytes(data)
    temporary.replace(path)
    return path


def _remove(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _refresh(tool: list[str]) -> None:
    """Tell the desktop's caches, where the tool exists (menus notice new files by themselves too)."""
    if shutil.which(tool[0]) is None:
        return
    try:
        subprocess.run(tool, check=False, capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as error:
        log.info("%s did not run: %s", tool[0], error)
