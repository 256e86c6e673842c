"""What every kind of test needs: the repository's root, waiting with a deadline, and tools from Debian."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]


def wait_until(
    condition: Callable[[], T],
    timeout: float,
    what: str = "",
    interval: float = 0.05,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """Poll ``condition`` until it returns something truthy, which is returned; fail after ``timeout`` s.

    The one way tests wait for something to happen: every wait has a deadline, and the
    failure says what did not happen. ``ignoring``: errors that only mean "not yet" (a
    socket not listening yet), counted as a falsy result."""
    deadline = time.monotonic() + timeout
    result = None
    while True:
        try:
            result = condition()
        except ignoring as error:
            result = error
        else:
            if result:
                return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or condition.__name__} (last: {result!r})")
        time.sleep(interval)


def require_tool(name: str) -> str:
    """The path of a command-line tool; missing tools fail in CI and skip elsewhere."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; the README's test command installs it.")
    pytest.skip(f"{name} is not installed (the README's test command installs it on Debian)")
