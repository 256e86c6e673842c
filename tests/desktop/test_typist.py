"""Typing on Wayland (``desktop/typist.py``): for real into a terminal under a headless sway with
wtype, and the command lines given to dotool and ydotool (not packaged where CI runs: stand-ins on
PATH that record what they were given), in order of preference, one after another when one fails."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop.typist import Typist
from tests.support.helpers import require_tool, wait_until

NON_ASCII = "Grüße aus Köln: café, naïve Straße, «über» – 12 € ok."
#: sway refuses to run as root; as root the tests start it as this user (nobody).
UNPRIVILEGED = 65534


@dataclass
class Sway:
    """A headless sway whose only window is a foot terminal saving each line typed into it."""

    environ: dict[str, str]
    typed: Path

    def lines(self) -> list[str]:
        return self.typed.read_text(encoding="utf-8").splitlines()


@pytest.fixture
def sway() -> Iterator[Sway]:
    sway, _, foot = (require_tool(name) for name in ("sway", "wtype", "foot"))
    # Not pytest's tmp_path: its folders are the test user's alone, and sway may run as another.
    with tempfile.TemporaryDirectory(prefix="hush-sway-") as folder:
        yield from _sway(sway, foot, Path(folder))


def _sway(sway: str, foot: str, tmp_path: Path) -> Iterator[Sway]:
    runtime, out = tmp_path / "runtime", tmp_path / "out"
    runtime.mkdir(mode=0o700)
    out.mkdir()
    typed = out / "typed.txt"
    config = tmp_path / "sway.config"
    config.write_text(f"exec {foot} -e sh -c {shlex.quote(f'cat > {typed}')}\n", encoding="utf-8")
    config.chmod(0o644)
    tmp_path.chmod(0o755)
    prefix: list[str] = []
    if os.geteuid() == 0:
        for folder in (runtime, out):
            os.chown(folder, UNPRIVILEGED, UNPRIVILEGED)
        prefix = ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups"]
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(out),
        "XDG_RUNTIME_DIR": str(runtime),
        "WLR_BACKENDS": "headless",
        "WLR_LIBINPUT_NO_DEVICES": "1",
        "WLR_RENDERER": "pixman",
    }
    with (tmp_path / "sway.log").open("w") as log:
        compositor = subprocess.Popen([*prefix, sway, "-c", str(config)], env=environ, stdout=log, stderr=log)
        try:
            socket = wait_until(lambda: next(runtime.glob("wayland-*[0-9]"), None), 20, "sway's Wayland socket")
            wait_until(typed.exists, 20, "the terminal")
            yield Sway({**environ, "WAYLAND_DISPLAY": socket.name}, typed)
        finally:
            compositor.terminate()
            compositor.wait(10)


def test_wtype_types_non_ascii_text_into_a_wayland_app(sway):
    typist = Typist(lambda _text: pytest.fail("the text went to the clipboard"), environ=sway.environ)
    for attempt in range(2):  # the second text follows another keymap: nothing may be lost in between
        assert typist.deliver(f"{NON_ASCII} {attempt}").method == "typed"
        subprocess.run(["wtype", "-s", "50", "-k", "Return"], env=sway.environ, check=True)
    lines = wait_until(lambda: len(got := sway.lines()) >= 2 and got, 10, "two lines in the terminal")
    assert lines == [f"{NON_ASCII} 0", f"{NON_ASCII} 1"]


def stand_in(folder: Path, name: str, exit_status: int = 0, helps: str = "") -> Path:
    """A program called ``name`` that appends its arguments and its standard input to ``name.log``;
    asked ``key --help``, it prints ``helps`` instead."""
    program = folder / name
    program.write_text(
        f'#!/bin/sh\n[ "$*" = "key --help" ] && {{ printf "%s\\n" "{helps}"; exit 0; }}\n'
        f'printf "%s\\n" "$*" >> "{folder}/{name}.log"\ncat >> "{folder}/{name}.log"\nexit {exit_status}\n',
        encoding="utf-8",
    )
    program.chmod(0o755)
    return folder / f"{name}.log"


def wayland(folder: Path) -> dict[str, str]:
    return {"WAYLAND_DISPLAY": "wayland-0", "PATH": f"{folder}:/usr/bin:/bin"}


#: What ``ydotool key --help`` starts with: Debian's 0.1 (key names) and 1.x (raw keycodes).
YDOTOOL_0_1_HELP = "Usage: key [--delay <ms>] [--key-delay <ms>] [--repeat <times>] <key sequence> ..."
YDOTOOL_1_HELP = "Usage: key [OPTION]... [KEYCODES]...\nSyntax: <keycode>:<pressed>"


@pytest.mark.parametrize(
    ("tool", "helps", "clipboard", "text", "typed", "pasted"),
    [
        ("dotool", "", "before", "Straße\nzwei", "\ntype Straße zwei\n", "\nkey ctrl+v\n"),  # commands on its input
        ("ydotool", YDOTOOL_0_1_HELP, None, "café", "type --file -\ncafé", "key ctrl+v\n"),  # the text on its input
        ("ydotool", YDOTOOL_1_HELP, None, "café", "type --file -\ncafé", "key 29:1 47:1 47:0 29:0\n"),
    ],
    ids=["dotool", "ydotool 0.1", "ydotool 1.x"],
)
def test_a_uinput_tool_is_given_the_text_and_ctrl_v(tmp_path, tool, helps, clipboard, text, typed, pasted):
    log = stand_in(tmp_path, tool, helps=helps)
    typist = Typist(lambda _text: None, lambda: clipboard, environ=wayland(tmp_path))
    assert typist.deliver(text).method == "typed"
    assert log.read_text(encoding="utf-8") == typed
    log.unlink()
    typist.paste = True
    assert typist.deliver("x").method == "pasted"
    assert log.read_text(encoding="utf-8") == pasted


def test_wtype_is_preferred_and_a_failing_tool_gives_way_to_the_next(tmp_path):
    wtype = stand_in(tmp_path, "wtype", exit_status=1)  # e.g. a compositor without the virtual keyboard
    ydotool = stand_in(tmp_path, "ydotool")
    typist = Typist(lambda _text: None, environ=wayland(tmp_path))
    assert typist.deliver("hello").method == "typed"
    assert wtype.read_text(encoding="utf-8") == "-s 50 -- hello\n"
    assert ydotool.read_text(encoding="utf-8") == "type --file -\nhello"


def test_without_a_tool_that_works_the_text_is_left_on_the_clipboard_with_a_sentence(tmp_path):
    stand_in(tmp_path, "wtype", exit_status=1)
    copied: list[str] = []
    delivery = Typist(copied.append, environ=wayland(tmp_path)).deliver("hello")
    assert delivery.method == "clipboard" and copied == ["hello"]
    assert delivery.message.startswith("Hush cannot type into other apps on Wayland by itself: install wtype")
