"""Hush's icon (``ui/icon.svg``, the page's) in the forms desktops ask for: PNGs of the hicolor
theme's sizes for the applications menu, ``.ico`` for Windows and ``.icns`` for macOS executables.

Qt draws the SVG (its QtSvg module comes with the PyQt6 that the Linux window already uses); the
``.ico`` and ``.icns`` containers are a header and a list of PNGs each, written here: no separate
image library to ship or to install for a build.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

#: The hicolor theme's usual application sizes (freedesktop icon theme specification).
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
#: Windows picks from 16 to 256 px in one .ico.
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: macOS's PNG representations in an .icns, by OSType.
ICNS_TYPES = {b"ic07": 128, b"ic08": 256, b"ic09": 512, b"ic10": 1024}


def svg_path() -> Path:
    """The page's icon, next to the package or inside the PyInstaller bundle (as ``window.icon_path``)."""
    return Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent)) / "ui" / "icon.svg"


def render(size: int, svg: Path | None = None) -> bytes:
    """The icon as a ``size`` × ``size`` PNG with a transparent background."""
    from PyQt6.QtCore import QBuffer, QByteArray, QIODevice

    buffer = QBuffer(storage := QByteArray())
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not _image(size, svg).save(buffer, "PNG"):
        raise OSError(f"Qt could not write a {size} px PNG of {svg or svg_path()}")
    return bytes(storage.data())


def write_ico(target: Path, svg: Path | None = None) -> Path:
    """A Windows ``.ico`` holding the icon at ``ICO_SIZES``, each as a PNG (valid since Windows Vista)."""
    images = [render(size, svg) for size in ICO_SIZES]
    header = struct.pack("<HHH", 0, 1, len(images))  # reserved, type 1 = icon, count
    offset = len(header) + 16 * len(images)
    entries = b""
    for size, png in zip(ICO_SIZES, images, strict=True):
        side = size % 256  # 0 means 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
    return _write(target, header + entries + b"".join(images))


def write_icns(target: Path, svg: Path | None = None) -> Path:
    """A macOS ``.icns``: PNG representations of 128 to 1024 px, by their OSType (Apple's icns format)."""
    body = b"".join(
        kind + struct.pack(">I", 8 + len(png)) + png
        for kind, png in ((kind, render(size, svg)) for kind, size in ICNS_TYPES.items())
    )
    return _write(target, b"icns" + struct.pack(">I", 8 + len(body)) + body)


def _write(target: Path, data: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def _image(size: int, svg: Path | None):  # -> QImage (PyQt6 is imported only when an icon is drawn)
    from PyQt6.QtCore import Qt
    from PyQt6.QtGui import QImage, QPainter
    from PyQt6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg or svg_path()))
    if not renderer.isValid():
        raise OSError(f"Qt could not read the icon {svg or svg_path()}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image
