"""The applications menu's entry, the icons and start at login (``desktop/entries.py``, ``icons.py``)."""

from __future__ import annotations

import shlex
import struct
import subprocess
import sys

import pytest

from desktop import entries, icons
from tests.support.helpers import require_tool


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def test_install_writes_a_valid_entry_and_every_icon_size(home):
    validate = require_tool("desktop-file-validate")
    written = entries.install()
    places = entries.Places.here()
    assert set(written) == {places.menu_entry, *places.icons}
    result = subprocess.run([validate, str(places.menu_entry)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout
    text = places.menu_entry.read_text()
    for line in ("Icon=hush", "Categories=AudioVideo;Audio;Utility;", "StartupWMClass=Hush", "Type=Application"):
        assert line in text.splitlines()
    assert "audio/mpeg;" in text and "video/mp4;" in text
    for size, path in places.png_icons.items():
        width, height = struct.unpack(">II", path.read_bytes()[16:24])  # the PNG's IHDR
        assert (width, height) == (size, size)
    assert places.svg_icon.read_bytes() == icons.svg_path().read_bytes()


def test_the_entry_starts_this_hush(home):
    entries.install()
    exec_line = next(x for x in entries.Places.here().menu_entry.read_text().splitlines() if x.startswith("Exec="))
    arguments = shlex.split(exec_line.removeprefix("Exec="))
    assert arguments[-1] == "%F"
    result = subprocess.run([*arguments[:-1], "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Hush" in result.stdout
    assert arguments[0] == sys.executable


def test_exec_quotes_what_the_specification_reserves():
    assert entries.exec_line(["/opt/Hush App/hush", "%F"]) == '"/opt/Hush App/hush" %F'
    assert entries.exec_line(["/a/$x"]) == '"/a/\\\\$x"'


def test_uninstall_removes_exactly_what_was_written(home):
    other = home / "share" / "applications" / "other.desktop"
    other.parent.mkdir(parents=True)
    other.write_text("[Desktop Entry]\nType=Application\nName=Other\nExec=other\n")
    written = set(entries.install())
    entries.set_start_at_login(True)
    autostart = entries.Places.here().autostart_entry
    assert "--hidden" in autostart.read_text() and "NoDisplay=true" in autostart.read_text()
    removed = set(entries.uninstall())
    assert removed == written | {autostart}
    assert other.exists()
    assert entries.uninstall() == []


def test_start_at_login_is_an_autostart_entry_that_validates(home):
    validate = require_tool("desktop-file-validate")
    entries.set_start_at_login(True)
    assert entries.starts_at_login()
    path = entries.Places.here().autostart_entry
    assert subprocess.run([validate, str(path)], capture_output=True).returncode == 0
    entries.set_start_at_login(False)
    assert not entries.starts_at_login() and not path.exists()


def test_executable_icons_hold_every_size(tmp_path):
    ico = icons.write_ico(tmp_path / "hush.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind, count) == (0, 1, len(icons.ICO_SIZES))
    for index, size in enumerate(icons.ICO_SIZES):
        width, _, _, _, _, _, length, offset = struct.unpack("<BBBBHHII", ico[6 + 16 * index : 22 + 16 * index])
        assert width == size % 256 and ico[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + length <= len(ico)
    icns = icons.write_icns(tmp_path / "hush.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    kinds, at = [], 8
    while at < len(icns):
        kinds.append(icns[at : at + 4])
        at += struct.unpack(">I", icns[at + 4 : at + 8])[0]
    assert kinds == list(icons.ICNS_TYPES)
