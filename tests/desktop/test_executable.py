"""The single executable (``scripts/build.sh`` → ``dist/hush``), run like a user runs it.

Built once per session, or reused when ``dist/hush`` is a default build newer than every
source. It is launched twice with an empty per-user cache: the first launch of a version
unpacks the app into the cache, the second must reuse it. Each time the window (Qt WebEngine
inside the bundle) records from the fake microphone, shows a transcript, and exits 0 when
closed. Size, build time and launch timings go to ``test-output/executable.json`` (and stdout
under ``pytest -s``); ``test-output/desktop-window.json`` has the unpackaged app's.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.support.desktop import (
    OUTPUT,
    PAINTED,
    TITLE,
    App,
    check_recording,
    check_transcript,
    close_and_check,
    free_port,
    open_page,
    record_and_transcribe,
    running,
    save_report,
    window_environment,
)
from tests.support.helpers import ROOT, require_tool

pytestmark = pytest.mark.executable

EXECUTABLE = ROOT / "dist" / ("hush.exe" if sys.platform == "win32" else "hush")
#: What the executable is built from: a change to any of these makes dist/hush stale.
SOURCES = ["backend", "desktop", "ui", "build.spec", "scripts/build.sh", "pyproject.toml"]
MAX_SIZE_MB = 450  # without model weights
BUILD_TIMEOUT = 30 * 60


def newest_source() -> float:
    files: list[Path] = []
    for name in SOURCES:
        path = ROOT / name
        found = [path] if path.is_file() else path.rglob("*")
        files += [p for p in found if p.is_file() and "__pycache__" not in p.parts]
    return max(p.stat().st_mtime for p in files)


def is_default_build(path: Path) -> bool:
    """The cached-mode single file (a zip payload) without a bundled model: what this test builds."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as payload:
        return not any(name.endswith("_internal/model/config.json") for name in payload.namelist())


def require_build_tools() -> None:
    if importlib.util.find_spec("PyInstaller") is None:
        if os.environ.get("CI"):
            pytest.fail("PyInstaller is not installed; the README's test command installs it (.[build]).")
        pytest.skip("PyInstaller is not installed (pip install -e '.[build]')")
    require_tool("objdump")  # PyInstaller reads shared-library dependencies with binutils on Linux


@pytest.fixture(scope="module")
def executable() -> tuple[Path, float | None]:
    """``dist/hush`` and its build time in seconds (``None`` when a fresh build was reused)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the executable is driven under Xvfb, which needs Linux")
    if EXECUTABLE.is_file() and EXECUTABLE.stat().st_mtime > newest_source() and is_default_build(EXECUTABLE):
        return EXECUTABLE, None
    require_build_tools()
    env = {k: v for k, v in os.environ.items() if k not in {"HUSH_BUNDLE_MODEL", "HUSH_BUILD_MODE"}}
    env["PYTHON"] = sys.executable
    OUTPUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(OUTPUT.parent / "build.log", "w", encoding="utf-8") as log:
        built = subprocess.run(
            ["bash", str(ROOT / "scripts" / "build.sh")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=BUILD_TIMEOUT,
        )
    assert built.returncode == 0, f"the build failed; see {OUTPUT.parent / 'build.log'}"
    assert EXECUTABLE.is_file()
    return EXECUTABLE, round(time.monotonic() - started, 1)


def test_executable_unpacks_once_and_transcribes_in_its_window(
    display,
    executable,
    tiny_en_ct2,
    microphone,
    tmp_path,
):
    """The model is real whisper-tiny.en as faster-whisper keeps it: the first launch converts it (in the
    frozen app), the later one finds the conversion."""
    path, build_seconds = executable
    model = tiny_en_ct2
    cache = tmp_path / "cache"
    launches = {}
    for launch in ("first", "later"):
        debug_port = free_port()
        env = window_environment(display, tmp_path / "data", microphone, debug_port)
        env["HUSH_CACHE_DIR"] = str(cache)
        command = [str(path)]
        if launch == "first":  # the model both ways: the HUSH_MODEL variable, then the command line
            env["HUSH_MODEL"] = str(model)
        else:
            command += ["--model", str(model)]
        app = App(command, env, OUTPUT / f"executable-{launch}.log")
        with running(app):
            app.wait_for_window(display, timeout=300)
            url = app.wait_for_url(timeout=300)
            page = open_page(debug_port, url)
            text = record_and_transcribe(page, app)
            check_recording(page)
            check_transcript(text)
            page.evaluate(PAINTED)
            display.screenshot(OUTPUT / f"executable-{launch}.png", TITLE)
            if launch == "later":  # one Hush: starting it again hands over to the running one
                started = time.monotonic()
                again = subprocess.run([str(path)], env=env, capture_output=True, text=True, timeout=120)
                assert again.returncode == 0 and "already running" in again.stdout, again.stdout + again.stderr
                launches["second_launch_s"] = round(time.monotonic() - started, 2)
            page.close()
            close_and_check(display, app)
        unpacked = any("unpacking into" in line for line in app.lines)
        assert unpacked == (launch == "first"), "only the first launch of a version unpacks"
        launches[launch] = {"transcript": text, **app.timings.report()}
    assert len(list(cache.glob("app-*"))) == 1, list(cache.iterdir())

    size_mb = round(path.stat().st_size / 2**20, 1)
    report = {
        "executable": str(path.relative_to(ROOT)),
        "size_mb": size_mb,
        "build_s": build_seconds if build_seconds is not None else "reused a fresh build",
        "first_launch_unpacks": launches["first"],
        "later_launch": launches["later"],
        "second_launch_hands_over_s": launches["second_launch_s"],
    }
    save_report("executable", report)
    assert size_mb <= MAX_SIZE_MB
