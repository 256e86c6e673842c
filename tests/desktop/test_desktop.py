"""The desktop launcher, unpackaged: the real pywebview (Qt WebEngine) window under Xvfb.

The window is driven over the Chrome DevTools Protocol that Qt WebEngine serves when
``QTWEBENGINE_REMOTE_DEBUGGING`` is set. Playwright cannot attach to it (Qt refuses the
browser-level context calls Playwright makes first), so a small WebSocket client below speaks
CDP directly to the page (``tests/support/desktop.py``). Chromium's fake capture device plays espeak speech as the
microphone. No ``--use-fake-ui-for-media-stream``: that switch would grant the microphone
without asking, and what is under test is the launcher granting it to its own page (and
refusing other origins). The window is closed the way a window manager closes it
(WM_DELETE_WINDOW), after which the process must exit 0 and free its port.

test_executable.py runs the same checks on the frozen app through the same harness.
Screenshots and timings go to ``test-output/desktop/``; ``HUSH_UPDATE_SCREENSHOTS=1`` also
refreshes ``docs/screenshot-desktop.png``.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from desktop import instance
from tests.support.desktop import (
    NOT_YET,
    OUTPUT,
    PAINTED,
    TITLE,
    App,
    Display,
    app_environment,
    base_url,
    check_recording,
    check_transcript,
    close_and_check,
    free_port,
    open_page,
    port_is_closed,
    record_and_transcribe,
    running,
    save_report,
    window_environment,
    xdotool,
)
from tests.support.helpers import ROOT, require_tool, wait_until

DOCS_SCREENSHOT = ROOT / "docs" / "screenshot-desktop.png"


@pytest.fixture(scope="session")
def checkpoint(tiny_en_converted) -> Path:
    """Real whisper-tiny.en, converted from its faster-whisper files: quick enough for a window on two cores."""
    return tiny_en_converted


class _ForeignPage(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>elsewhere</title><p>another origin"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def foreign_origin() -> Iterator[str]:
    """Another web server on loopback: a different origin than Hush's."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ForeignPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


CLIPBOARD_ROUND_TRIP = (
    "(async () => { const text = document.querySelector('[data-testid=transcript]').innerText.trim();"
    " await navigator.clipboard.writeText(text); return await navigator.clipboard.readText(); })()"
)
MICROPHONE_REQUEST = (
    "navigator.mediaDevices.getUserMedia({audio: true})"
    ".then(s => { s.getTracks().forEach(t => t.stop()); return 'granted'; }, e => 'refused: ' + e.name)"
)


# -- tests ---------------------------------------------------------------------------------------
@pytest.mark.desktop
def test_window_records_transcribes_and_closes(display, checkpoint, microphone, tmp_path):
    model = checkpoint
    debug_port = free_port()
    env = window_environment(display, tmp_path / "data", microphone, debug_port)
    app = App([sys.executable, "-m", "desktop", "--model", str(model)], env, OUTPUT / "window.log")
    with running(app):
        window = app.wait_for_window(display)
        assert (window.width, window.height) == (1000, 760)
        url = app.wait_for_url()
        assert urlsplit(url).hostname == "127.0.0.1"
        page = open_page(debug_port, url)
        text = record_and_transcribe(page, app, display, live_shot=OUTPUT / "window-live.png")
        check_recording(page)
        check_transcript(text)
        page.evaluate(PAINTED)
        display.screenshot(OUTPUT / "screen.png")
        shot = display.screenshot(OUTPUT / "window.png", TITLE)
        if os.environ.get("HUSH_UPDATE_SCREENSHOTS"):
            shutil.copyfile(shot, DOCS_SCREENSHOT)

        assert page.evaluate(MICROPHONE_REQUEST) == "granted"  # our page: the launcher says yes
        page.call("Emulation.setFocusEmulationEnabled", enabled=True)  # no window manager gives Xvfb focus
        assert page.evaluate(CLIPBOARD_ROUND_TRIP) == text  # "Copy" works in the window
        with foreign_origin() as elsewhere:  # any other page in the window: no microphone
            page.call("Page.navigate", url=elsewhere)
            wait_until(lambda: page.evaluate("document.title") == "elsewhere", 30, "the other page", ignoring=NOT_YET)
            assert page.evaluate(MICROPHONE_REQUEST).startswith("refused")
        page.close()

        close_and_check(display, app)
    remembered = json.loads((tmp_path / "data" / "desktop.json").read_text())
    assert remembered["window"]["width"] == 1000 and remembered["port"] == urlsplit(url).port
    save_report("desktop-window", {"transcript": text, **app.timings.report()})


@pytest.mark.desktop
def test_browser_mode_serves_the_page_and_stops_on_sigterm(display, checkpoint, tmp_path):
    model = checkpoint
    port = free_port()
    env = app_environment(display, tmp_path / "data", BROWSER="true")  # a browser that opens nothing
    command = [sys.executable, "-m", "desktop", "--browser", "--port", str(port), "--model", str(model)]
    app = App(command, env, OUTPUT / "browser.log")
    with running(app):
        url = app.wait_for_url()
        assert base_url(url) == f"http://127.0.0.1:{port}/"
        browser = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor())
        with browser.open(url, timeout=10) as response:  # what the browser opens: token → cookie → the page
            assert response.status == 200
            assert "<title>Hush" in response.read().decode()
        with browser.open(base_url(url) + "api/health", timeout=10) as response:
            assert json.load(response)["model"]["id"] == str(model)
        assert display.find(TITLE) is None  # no window in browser mode
        app.process.send_signal(signal.SIGTERM)
        assert app.wait_for_exit() == 0, app.output()
    assert port_is_closed(port)


# -- the launcher's own logic, without a display -------------------------------------------------
@dataclass
class Screen:
    x: int
    y: int
    width: int
    height: int


def test_remembered_geometry_fits_the_screens_present_now():
    from desktop.state import Geometry

    screens = [Screen(0, 0, 1920, 1080), Screen(1920, 0, 1280, 1024)]
    assert Geometry(1200, 800, 2000, 100).fitted(screens) == Geometry(1200, 800, 2000, 100)
    assert Geometry(1200, 800, 4000, 100).fitted(screens) == Geometry(1200, 800, None, None)  # monitor unplugged
    assert Geometry(3000, 2000, 10, 10).fitted(screens) == Geometry(1920, 1080, 10, 10)
    assert Geometry(300, 200).fitted(screens) == Geometry(800, 600)


def test_state_survives_a_damaged_file(tmp_path):
    from desktop import state

    (tmp_path / state.STATE_FILE).write_text("{not json")
    assert state.load(tmp_path) == state.State()
    state.save(tmp_path, state.State(state.Geometry(900, 700, 5, 6), 8123))
    assert state.load(tmp_path) == state.State(state.Geometry(900, 700, 5, 6), 8123)


def test_only_our_origin_counts_as_ours():
    from desktop.service import origin

    assert origin("http://127.0.0.1:8123/") == origin("http://127.0.0.1:8123/index.html?x=1")
    assert origin("http://127.0.0.1:8123/") != origin("http://127.0.0.1:8124/")
    assert origin("http://127.0.0.1:8123/") != origin("http://localhost:8123/")
    assert origin("https://127.0.0.1:8123/") != origin("http://127.0.0.1:8123/")


def test_the_page_saves_files_through_the_save_dialog(monkeypatch, tmp_path):
    import webview

    from desktop.bridge import Bridge

    asked = []

    class Window:
        def create_file_dialog(self, kind, directory, save_filename):
            asked.append((kind, save_filename))
            return (str(tmp_path / save_filename),) if save_filename != "cancel.txt" else None

    monkeypatch.setattr(webview, "windows", [Window()])
    saved = Bridge().save_file("../../notes.txt", base64.b64encode(b"three seven").decode())
    assert saved == str(tmp_path / "notes.txt") and (tmp_path / "notes.txt").read_bytes() == b"three seven"
    assert asked == [(webview.FileDialog.SAVE, "notes.txt")]
    assert Bridge().save_file("cancel.txt", "") is None
    with pytest.raises(ValueError):
        Bridge().save_file("x.txt", "not base64!")


def custom_properties(css: str) -> dict[str, dict[str, str]]:
    """The ``--name: value`` declarations of ``:root`` in ``css``, light (top level) and dark
    (inside ``@media (prefers-color-scheme: dark)``), later ones winning as in the cascade."""
    found: dict[str, dict[str, str]] = {"light": {}, "dark": {}}
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    preludes: list[str] = []  # of the blocks open at this point
    start = 0
    for index, char in enumerate(css):
        if char == "{":
            preludes.append(" ".join(css[start:index].split()))
            start = index + 1
        elif char == "}":
            if preludes.pop() == ":root":
                scheme = "dark" if "@media (prefers-color-scheme: dark)" in preludes else "light"
                for name, value in re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", css[start:index]):
                    found[scheme][name] = " ".join(value.split())
            start = index + 1
    return found


def test_launcher_pages_wear_the_recorder_page_colours():
    """The launcher's starting and failed pages define every custom property (colours, fonts) the
    recorder page's stylesheets define, light and dark, with the same values, and the window's
    colour before the first paint is the page's background."""
    from desktop import pages

    index = (ROOT / "ui" / "index.html").read_text()
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)">', index)
    page = custom_properties("\n".join((ROOT / "ui" / sheet).read_text() for sheet in sheets))
    assert page["light"]["--bg"] and page["dark"]["--bg"], sheets
    for html in (pages.starting(), pages.failed("boom")):
        style = re.search(r"<style>(.*)</style>", html, re.S).group(1)
        assert custom_properties(style) == page
        assert set(re.findall(r"var\((--[\w-]+)\)", html)) <= page["light"].keys()
    assert page["light"]["--bg"] == pages.BACKGROUND


def test_command_line_maps_onto_settings(monkeypatch, tmp_path):
    from desktop import cli, config

    monkeypatch.setenv("HUSH_HOST", "0.0.0.0")
    monkeypatch.setenv("HUSH_MODEL", "from-env")
    monkeypatch.setenv("HUSH_DATA_DIR", str(tmp_path))
    settings = config.load_settings(cli.parse(["--port", "8123", "--debug"]))
    assert (settings.host, settings.port, settings.model) == ("127.0.0.1", 8123, "from-env")
    assert config.load_settings(cli.parse(["--model", "/models/x"])).model == "/models/x"
    with pytest.raises(SystemExit):
        cli.parse(["--port", "70000"])
    opened = cli.parse(["--hidden", "a.wav", "/b/c.mp4"])
    assert opened.hidden and opened.files == (Path("a.wav"), Path("/b/c.mp4"))
    assert cli.parse(["--install"]).install and cli.parse(["--uninstall"]).uninstall
    with pytest.raises(SystemExit):
        cli.parse(["--install", "--uninstall"])


def test_a_file_that_is_not_there_is_a_sentence_not_a_wait(tmp_path):
    env = {**os.environ, "HUSH_DATA_DIR": str(tmp_path)}
    missing = tmp_path / "interview.m4a"
    result = subprocess.run(
        [sys.executable, "-m", "desktop", str(missing)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert f"Hush cannot open {missing}: no such file." in result.stderr


def test_install_and_uninstall_from_the_command_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")} | {"HOME": str(tmp_path)}
    hush = [sys.executable, "-m", "desktop"]
    installed = subprocess.run([*hush, "--install"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert installed.returncode == 0 and "in the applications menu now" in installed.stdout, installed.stderr
    entry = tmp_path / ".local" / "share" / "applications" / "hush.desktop"
    assert subprocess.run([require_tool("desktop-file-validate"), str(entry)]).returncode == 0
    removed = subprocess.run([*hush, "--uninstall"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert not list(tmp_path.rglob("hush.desktop")) and not list(tmp_path.rglob("hush.png"))


@pytest.mark.parametrize(
    "command", [["-m", "desktop", "--browser"], ["-m", "backend"]], ids=["hush", "python -m backend"]
)
def test_a_setting_hush_cannot_use_stops_the_start_with_its_sentence(command, tmp_path):
    env = {**os.environ, "HUSH_DEVICE": "tpu", "HUSH_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "HUSH_DEVICE: Input should be 'auto', 'cpu', 'cuda' or 'mps'." in result.stderr
    assert "Traceback" not in result.stderr


# -- a desktop citizen: one instance, files handed over, running on without a window ------------
SHOWN_COUNTER = "window.__shown = 0; window.addEventListener('hush:shown', () => { window.__shown += 1; }); true"


def _api(data_dir: Path, method: str, path: str, body: dict | None = None) -> Any:
    """The running Hush's API, reached the way a second launch reaches it: through its instance file."""
    found = instance.read(data_dir)
    assert found is not None, "no instance file"
    return found.call(method, path, body)


def _launch_again(env: dict[str, str], *arguments: str) -> tuple[int, float, str]:
    """A second ``hush`` with the same data folder: its exit status, seconds taken and output. Started
    the way the applications menu starts it where ``hush --install`` wrote an entry into ``env``'s home."""
    entry = Path(env.get("XDG_DATA_HOME", "/nonexistent")) / "applications" / "hush.desktop"
    if entry.is_file():
        exec_line = next(x for x in entry.read_text().splitlines() if x.startswith("Exec="))
        command = [a for a in shlex.split(exec_line.removeprefix("Exec=")) if a != "%F"]
    else:
        command = [sys.executable, "-m", "desktop"]
    started = time.monotonic()
    done = subprocess.run([*command, *arguments], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    return done.returncode, round(time.monotonic() - started, 2), done.stdout + done.stderr


@pytest.mark.desktop
def test_one_hush_hands_over_runs_on_without_its_window_and_quits(display, checkpoint, microphone, media, tmp_path):
    data = tmp_path / "data"
    debug_port = free_port()
    env = window_environment(display, data, microphone, debug_port)
    env |= {"XDG_DATA_HOME": str(tmp_path / "share"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    installed = subprocess.run([sys.executable, "-m", "desktop", "--install"], env=env, cwd=ROOT, timeout=60)
    assert installed.returncode == 0  # later launches below go through the menu entry's Exec
    first = App([sys.executable, "-m", "desktop", "--model", str(checkpoint)], env, OUTPUT / "instance.log")
    report: dict[str, Any] = {}
    with running(first):
        window = first.wait_for_window(display)
        assert str(window.id) in xdotool_search(display, "--class", "^Hush$").split()  # StartupWMClass=Hush
        page = open_page(debug_port, first.wait_for_url())
        page.evaluate(SHOWN_COUNTER)
        code, report["second_launch_s"], output = _launch_again(env)
        assert code == 0 and "already running" in output, output
        wait_until(lambda: page.evaluate("window.__shown") == 1, 10, "the page hearing that Hush came to the front")
        assert _hush_processes(data) == [first.process.pid]  # one Hush, one server, one model

        code, report["second_launch_with_file_s"], output = _launch_again(env, str(media["wav"]))
        assert code == 0, output
        name = json.dumps(media["wav"].name)
        listed = f"[...document.querySelectorAll('#history-list li')].some(li => li.textContent.includes({name}))"
        wait_until(lambda: page.evaluate(listed), 60, "the handed-over file in the first window's history")
        assert page.evaluate("document.querySelector('#desktop-open').hidden") is False  # the "This app" panel
        page.click("#desktop-open")
        page.call("Emulation.setFocusEmulationEnabled", enabled=True)
        page.evaluate("document.querySelector('#desktop-keep_running').focus()")
        page.evaluate(PAINTED)
        display.screenshot(OUTPUT / "this-app.png", TITLE)
        page.click("#desktop-close")
        assert _api(data, "GET", "api/desktop")["keep_running"] is True  # the shortcut is heard: on by default
        display.close(TITLE)
        wait_until(lambda: display.find(TITLE) is None, 10, "the window hidden")
        assert first.alive(), first.output()
        assert _api(data, "GET", "api/health")["model"]["state"] == "ready"  # the server answers on
        code, _, output = _launch_again(env)
        assert code == 0, output
        wait_until(lambda: display.find(TITLE), 10, "the window shown again", ignoring=NOT_YET)
        assert first.alive() and instance.read(data).pid == first.process.pid

        asked = time.monotonic()
        _api(data, "POST", "api/desktop/quit")
        assert first.wait_for_exit(10) == 0, first.output()
        report["quit_to_exit_s"] = round(time.monotonic() - asked, 2)
        assert report["quit_to_exit_s"] < 2, report
        assert not (data / "instance.json").exists()

    crashed = App([sys.executable, "-m", "desktop", "--model", str(checkpoint)], env, OUTPUT / "instance-crashed.log")
    with running(crashed):
        crashed.wait_for_url()
        stale = wait_until(lambda: instance.read(data), 10, "the instance file")
        crashed.kill()  # SIGKILL: the lock file and the instance file stay behind
    assert instance.read(data) == stale
    after = App([sys.executable, "-m", "desktop", "--model", str(checkpoint)], env, OUTPUT / "instance-after.log")
    with running(after):
        after.wait_for_window(display)
        after.wait_for_url()
        fresh = wait_until(lambda: (r := instance.read(data)) and r != stale and r, 10, "a new instance file")
        assert fresh.pid == after.process.pid
        assert _api(data, "GET", "api/health")["version"]
        assert _api(data, "GET", "api/desktop")["keep_running"] is True  # remembered from the first launch
        _api(data, "PATCH", "api/desktop", {"keep_running": False})
        close_and_check(display, after)
    save_report("desktop-instance", report)


def _hush_processes(data_dir: Path) -> list[int]:
    """Process ids running the launcher (``-m desktop``) on ``data_dir``, from /proc (other tests may
    run launchers of their own on the same machine)."""
    found = []
    wanted = f"HUSH_DATA_DIR={data_dir}".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
                environment = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"-m" in command and b"desktop" in command and wanted in environment:
                found.append(int(entry.name))
    return found


@pytest.mark.desktop
def test_a_hidden_start_waits_for_the_next_launch(display, checkpoint, microphone, tmp_path):
    data = tmp_path / "data"
    env = window_environment(display, data, microphone, free_port())
    app = App([sys.executable, "-m", "desktop", "--hidden", "--model", str(checkpoint)], env, OUTPUT / "hidden.log")
    with running(app):
        app.wait_for_url()
        wait_until(lambda: instance.read(data), 30, "the instance file")
        assert display.find(TITLE) is None  # at login: no window, Hush waits (in the tray)
        code, _, output = _launch_again(env)
        assert code == 0, output
        app.wait_for_window(display, timeout=10)
        _api(data, "POST", "api/desktop/quit")
        assert app.wait_for_exit(10) == 0, app.output()


def xdotool_search(display: Display, *arguments: str) -> str:
    """``xdotool search``: finding nothing is an answer (it exits 1 then), not an error."""
    return xdotool(display, "search", *arguments, check=False)


@pytest.fixture
def tray(display) -> Iterator[subprocess.Popen]:
    """A system tray on the display (trayer, a small freedesktop tray): Qt docks its icon there.
    As wide as its icons, so the panel's middle is Hush's icon."""
    trayer = require_tool("trayer")
    process = subprocess.Popen(
        [trayer, "--edge", "bottom", "--align", "right", "--widthtype", "request", "--height", "32",
         "--SetDockType", "true", "--transparent", "false", "--tint", "0x333333"],
        env={**os.environ, "DISPLAY": display.name},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    yield process
    process.terminate()
    process.wait(10)


@pytest.mark.desktop
def test_the_tray_shows_hush_records_and_quits_it(display, tray, checkpoint, microphone, tmp_path):
    data = tmp_path / "data"
    debug_port = free_port()
    env = window_environment(display, data, microphone, debug_port)
    app = App([sys.executable, "-m", "desktop", "--model", str(checkpoint)], env, OUTPUT / "tray.log")
    with running(app):
        app.wait_for_window(display)
        page = open_page(debug_port, app.wait_for_url())
        wait_until(lambda: instance.read(data), 30, "the instance file")
        assert _api(data, "GET", "api/desktop")["tray"] is True
        geometry = r"Position: (\d+),(\d+).*\n.*Geometry: (\d+)x(\d+)"
        panel = wait_until(
            lambda: re.search(geometry, xdotool_search(display, "--name", "^panel$", "getwindowgeometry")),
            20,
            "the tray's panel",
        )
        x, y, width, height = map(int, panel.groups())
        icon = (str(x + width // 2), str(y + height // 2))

        def hush_windows() -> int:
            return len(xdotool_search(display, "--onlyvisible", "--class", "Hush").split())

        def open_menu(shown: int) -> None:
            """Right-click the icon until its menu shows (one more window of Hush's): under Xvfb, a
            click right after another popup closed is sometimes taken by the closing one."""
            for _ in range(5):
                xdotool(display, "mousemove", *icon, "click", "3")
                try:
                    wait_until(lambda: hush_windows() > shown, 2, "the tray's menu")
                    return
                except pytest.fail.Exception:
                    continue
            pytest.fail("the tray's menu did not open in five clicks")

        def tray_menu(*keys: str) -> None:
            """Open the icon's menu and choose with the keyboard."""
            open_menu(hush_windows())
            xdotool(display, "key", *keys)

        _api(data, "PATCH", "api/desktop", {"keep_running": True})
        display.close(TITLE)
        wait_until(lambda: display.find(TITLE) is None, 10, "the window hidden in the tray")
        xdotool(display, "mousemove", *icon, "click", "1")  # a click on the icon: Show Hush
        wait_until(lambda: display.find(TITLE), 10, "the window shown from the tray", ignoring=NOT_YET)
        wait_until(
            lambda: page.evaluate("document.querySelector('#model-pill').dataset.state") == "ready",
            120,
            "the model",
            ignoring=NOT_YET,
        )

        tray_menu("Down", "Down", "Return")  # Show Hush, Record
        recording = "document.querySelector('#record').dataset.recording"
        wait_until(lambda: page.evaluate(recording) == "true", 10, "recording started from the tray")
        page.evaluate(PAINTED)
        shown = hush_windows()
        open_menu(shown)
        display.screenshot(OUTPUT / "tray-menu.png")
        xdotool(display, "key", "Escape")
        wait_until(lambda: hush_windows() == shown, 10, "the tray's menu closed")  # before it is counted again
        page.click("#record")
        wait_until(lambda: page.evaluate(recording) == "false", 10, "recording stopped")
        page.close()

        def transcribed() -> bool:
            items = _api(data, "GET", "api/transcriptions")["items"]
            return bool(items) and all(item["status"] not in ("queued", "running") for item in items)

        wait_until(transcribed, 60, "the tray's recording transcribed")  # Quit is timed with nothing to stop

        open_menu(hush_windows())
        clicked = time.monotonic()
        xdotool(display, "key", "Up", "Return")  # the last entry: Quit Hush
        assert app.wait_for_exit(10) == 0, app.output()
        quit_seconds = round(time.monotonic() - clicked, 2)
    save_report("desktop-tray", {"quit_to_exit_s": quit_seconds})
    assert quit_seconds < 2
