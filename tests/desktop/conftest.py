"""The desktop tests' fixtures: a fresh Xvfb display and the fake microphone's phrase, shared by
the unpackaged launcher's tests and the single executable's."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.desktop import PHRASE, Display
from tests.support.helpers import require_tool


@pytest.fixture(scope="session")
def display() -> Iterator[Display]:
    """A fresh Xvfb on a display number it picks itself (``-displayfd``), so parallel runs never collide."""
    xvfb = require_tool("Xvfb")
    require_tool("import")
    read, write = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        pass_fds=[write],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    assert number, "Xvfb did not start"
    screen = Display(f":{number}")
    yield screen
    screen.shutdown()
    server.terminate()
    server.wait(10)


@pytest.fixture(scope="session")
def microphone(speak) -> Path:
    """What the fake microphone hears once: the phrase with half a second of silence around it."""
    return speak(PHRASE, pad_seconds=0.5)
