"""Driving the desktop app the way a person does, for tests/desktop: an X display (Xvfb, found
and closed through Xlib), the page inside the window over the Chrome DevTools Protocol, and the
launcher (``python -m desktop`` or the frozen executable) as a subprocess with its timings.

The window is driven over the Chrome DevTools Protocol that Qt WebEngine serves when
``QTWEBENGINE_REMOTE_DEBUGGING`` is set. Playwright cannot attach to it (Qt refuses the
browser-level context calls Playwright makes first), so a small WebSocket client below speaks
CDP directly to the page. The fixtures built on this are in ``tests/desktop/conftest.py``.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import ctypes.util
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.helpers import ROOT, require_tool, wait_until

OUTPUT = ROOT / "test-output" / "desktop"
#: What the fake microphone says, for real whisper-tiny.en: words it hears from espeak-ng.
PHRASE = "the museum will be closed on monday for repairs"
RECORD_SECONDS = 4.5
TITLE = "Hush"
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback never goes through a proxy


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


#: What a window, its DevTools socket or a half-started server raise while it is not there yet.
NOT_YET = (OSError, ValueError, KeyError)


def xdotool(display: Display, *arguments: str, check: bool = True) -> str:
    """``xdotool`` on ``display`` (keys, clicks, window searches); its output. ``check``: a failure
    (a search that finds nothing exits 1) is an error."""
    done = subprocess.run(
        [require_tool("xdotool"), *arguments],
        env={**os.environ, "DISPLAY": display.name},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert not check or done.returncode == 0, done.stderr
    return done.stdout.strip()


# -- the X display -----------------------------------------------------------------------------
class _ClientMessage(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("client", _ClientMessage), ("pad", ctypes.c_long * 24)]


class _Attributes(ctypes.Structure):  # XWindowAttributes
    _fields_ = [
        *[(name, ctypes.c_int) for name in ("x", "y", "width", "height", "border_width", "depth")],
        ("visual", ctypes.c_void_p),
        ("root", ctypes.c_ulong),
        *[(name, ctypes.c_int) for name in ("class_", "bit_gravity", "win_gravity", "backing_store")],
        ("backing_planes", ctypes.c_ulong),
        ("backing_pixel", ctypes.c_ulong),
        ("save_under", ctypes.c_int),
        ("colormap", ctypes.c_ulong),
        ("map_installed", ctypes.c_int),
        ("map_state", ctypes.c_int),
        ("event_masks", ctypes.c_long * 3),
        ("override_redirect", ctypes.c_int),
        ("screen", ctypes.c_void_p),
    ]


@dataclass(frozen=True)
class Window:
    id: int
    x: int
    y: int
    width: int
    height: int


class Display:
    """An Xvfb display, and what a window manager would do on it (libX11 through ctypes: no extra tools)."""

    IS_VIEWABLE, CLIENT_MESSAGE = 2, 33

    def __init__(self, name: str) -> None:
        self.name = name
        x = self._x = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        ulong, void, long_p = ctypes.c_ulong, ctypes.c_void_p, ctypes.POINTER(ctypes.c_ulong)
        x.XOpenDisplay.restype, x.XOpenDisplay.argtypes = void, [ctypes.c_char_p]
        x.XDefaultRootWindow.restype, x.XDefaultRootWindow.argtypes = ulong, [void]
        x.XQueryTree.argtypes = [void, ulong, long_p, long_p, ctypes.POINTER(long_p), ctypes.POINTER(ctypes.c_uint)]
        x.XFetchName.argtypes = [void, ulong, ctypes.POINTER(ctypes.c_char_p)]
        x.XGetWindowAttributes.argtypes = [void, ulong, ctypes.POINTER(_Attributes)]
        x.XInternAtom.restype, x.XInternAtom.argtypes = ulong, [void, ctypes.c_char_p, ctypes.c_int]
        x.XSendEvent.argtypes = [void, ulong, ctypes.c_int, ctypes.c_long, ctypes.POINTER(_XEvent)]
        x.XFlush.argtypes = x.XFree.argtypes = x.XCloseDisplay.argtypes = [void]
        # Xlib's default handler exits the process on any error, e.g. a window destroyed while we look at it.
        self._ignore_errors = ctypes.CFUNCTYPE(ctypes.c_int, void, void)(lambda _display, _error: 0)
        x.XSetErrorHandler(self._ignore_errors)
        self._display = x.XOpenDisplay(name.encode())
        assert self._display, f"cannot open X display {name}"

    def find(self, title: str) -> Window | None:
        """The mapped top-level window called ``title``, if there is one now."""
        x, root = self._x, self._x.XDefaultRootWindow(self._display)
        parent, children, count = ctypes.c_ulong(), ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        if not x.XQueryTree(
            self._display, root, ctypes.byref(parent), ctypes.byref(parent), ctypes.byref(children), ctypes.byref(count)
        ):
            return None
        windows = [children[i] for i in range(count.value)]
        if children:
            x.XFree(children)
        for window in windows:
            name, attributes = ctypes.c_char_p(), _Attributes()
            if not x.XFetchName(self._display, window, ctypes.byref(name)) or not name.value:
                continue
            matched = name.value.decode(errors="replace") == title
            x.XFree(name)
            viewable = (
                matched
                and x.XGetWindowAttributes(self._display, window, ctypes.byref(attributes))
                and attributes.map_state == self.IS_VIEWABLE
            )
            if viewable:
                return Window(window, attributes.x, attributes.y, attributes.width, attributes.height)
        return None

    def close(self, title: str) -> None:
        """What a window manager sends when the user clicks ×: WM_PROTOCOLS / WM_DELETE_WINDOW."""
        window = self.find(title)
        assert window, f"no window {title!r} to close"
        event = _XEvent()
        message = event.client
        message.type, message.window, message.format = self.CLIENT_MESSAGE, window.id, 32
        message.message_type = self._x.XInternAtom(self._display, b"WM_PROTOCOLS", 0)
        message.data[0] = self._x.XInternAtom(self._display, b"WM_DELETE_WINDOW", 0)
        self._x.XSendEvent(self._display, window.id, 0, 0, ctypes.byref(event))
        self._x.XFlush(self._display)

    def clipboard(self) -> str:
        """The CLIPBOARD selection's text, read by another X client (Tk); "" when it holds none."""
        read = "import tkinter; root = tkinter.Tk(); root.withdraw(); print(root.clipboard_get(), end='')"
        done = subprocess.run(
            [sys.executable, "-c", read], env={**os.environ, "DISPLAY": self.name}, capture_output=True, timeout=30
        )
        return done.stdout.decode() if done.returncode == 0 else ""

    def screenshot(self, path: Path, title: str | None = None) -> Path:
        """The whole screen (or the window called ``title``) as PNG, with ImageMagick's ``import``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        window = self.find(title) if title else None
        target = str(window.id) if window else "root"
        subprocess.run([require_tool("import"), "-display", self.name, "-window", target, str(path)], check=True)
        return path

    def shutdown(self) -> None:
        self._x.XCloseDisplay(self._display)


# -- Chrome DevTools Protocol ------------------------------------------------------------------
class DevTools:
    """CDP over a minimal WebSocket client (RFC 6455 text frames; standard library only)."""

    def __init__(self, ws_url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(ws_url)
        self._socket = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self._socket.sendall(
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += self._exactly(1)
        assert head.split(b" ", 2)[1] == b"101", head.decode(errors="replace")
        self._next_id = 0

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self._socket.recv(size - len(data))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            data += chunk
        return data

    def _send(self, opcode: int, payload: bytes) -> None:
        mask, size = os.urandom(4), len(payload)
        length = bytes([0x80 | size]) if size < 126 else struct.pack("!BH", 0x80 | 126, size)
        if size >= 1 << 16:
            length = struct.pack("!BQ", 0x80 | 127, size)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self._socket.sendall(bytes([0x80 | opcode]) + length + mask + masked)

    def _receive(self) -> dict:
        fragments = []
        while True:
            first, second = self._exactly(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._exactly(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._exactly(8))[0]
            payload, opcode = self._exactly(size), first & 0x0F
            if opcode == 0x9:  # ping
                self._send(0xA, payload)
            elif opcode == 0x8:
                raise ConnectionError("DevTools closed the connection")
            else:
                fragments.append(payload)
                if first & 0x80:
                    return json.loads(b"".join(fragments))

    def call(self, method: str, **params: Any) -> dict:
        self._next_id += 1
        self._send(0x1, json.dumps({"id": self._next_id, "method": method, "params": params}).encode())
        while True:  # events arrive in between; we only want our answer
            message = self._receive()
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True, userGesture=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element, through Qt's input pipeline."""
        x, y = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def close(self) -> None:
        self._socket.close()


def base_url(url: str) -> str:
    """``http://127.0.0.1:PORT/``: the printed URL carries the launch token, which the page trades for a cookie."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def open_page(debug_port: int, url: str, timeout: float = 60.0) -> DevTools:
    """DevTools on the window's page once it shows the server's page and has loaded."""
    base = base_url(url)

    def target() -> str | None:
        with _direct.open(f"http://127.0.0.1:{debug_port}/json", timeout=2) as response:
            pages = [t for t in json.load(response) if t.get("type") == "page" and t["url"] == base]
        return pages[0]["webSocketDebuggerUrl"] if pages else None

    # The window first loads base?token=…, which answers with the cookie and a redirect to base.
    page = DevTools(wait_until(target, timeout, f"the page at {base} in the window", ignoring=NOT_YET))
    loaded = "document.readyState === 'complete' && !!document.querySelector('#record') && !location.search"
    wait_until(lambda: page.evaluate(loaded), timeout, "the recorder page to load", ignoring=NOT_YET)
    return page


# -- the app under test --------------------------------------------------------------------------
@dataclass
class Timings:
    """Seconds from launch, as a user would notice them."""

    window: float | None = None
    server: float | None = None
    ready: float | None = None
    transcript: float | None = None
    exit_after_close: float | None = None

    def report(self) -> dict[str, float | None]:
        return {
            "launch_to_window_visible_s": self.window,
            "launch_to_server_up_s": self.server,
            "launch_to_model_ready_s": self.ready,
            f"launch_to_first_transcript_s (incl. {RECORD_SECONDS} s recording)": self.transcript,
            "close_to_exit_s": self.exit_after_close,
        }


@dataclass
class App:
    """The launcher (``python -m desktop`` or the frozen executable) as a subprocess."""

    command: list[str]
    env: dict[str, str]
    log_path: Path
    started: float = 0.0
    url: str | None = None
    timings: Timings = field(default_factory=Timings)
    process: subprocess.Popen | None = None
    lines: list[str] = field(default_factory=list)

    def start(self) -> App:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: kill() reaches the frozen app's child process too
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.process and self.process.stdout
        with open(self.log_path, "w", encoding="utf-8") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                self.lines.append(line)
                if self.url is None and "Hush is running at " in line:
                    self.timings.server = self.elapsed()
                    self.url = line.split("Hush is running at ", 1)[1].split()[0]

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 2)

    def output(self) -> str:
        return "".join(self.lines[-60:])

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_for_url(self, timeout: float = 180.0) -> str:
        def url() -> str | None:
            if not self.alive() and self.url is None:
                pytest.fail(f"the app exited with {self.process.returncode}:\n{self.output()}")
            return self.url

        return wait_until(url, timeout, "the server's address on stdout", ignoring=NOT_YET)

    def wait_for_window(self, display: Display, timeout: float = 180.0) -> Window:
        def window() -> Window | None:
            if not self.alive():
                pytest.fail(f"the app exited with {self.process.returncode}:\n{self.output()}")
            return display.find(TITLE)

        found = wait_until(window, timeout, "the Hush window", interval=0.02, ignoring=NOT_YET)
        self.timings.window = self.elapsed()
        return found

    def wait_for_exit(self, timeout: float = 30.0) -> int:
        assert self.process
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the app did not exit within {timeout:.0f} s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL to the whole group: a onefile's bootloader cannot forward SIGKILL to the app it started."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def app_environment(display: Display, data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without HUSH_* settings (the test decides them) and with the display."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUSH_", "QTWEBENGINE_"))}
    env.update(DISPLAY=display.name, HUSH_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", **extra)
    return env


def window_environment(display: Display, data_dir: Path, microphone: Path, debug_port: int) -> dict[str, str]:
    """The fake microphone, a DevTools port, and no GPU thread: under Xvfb it renders through Mesa's
    llvmpipe, and one CI run lost the window to a heap corruption ("malloc(): unsorted double linked
    list corrupted") right after that thread failed to create its command buffer. The browser tests
    pass the same ``--disable-gpu``."""
    return app_environment(
        display,
        data_dir,
        QTWEBENGINE_REMOTE_DEBUGGING=f"127.0.0.1:{debug_port}",
        QTWEBENGINE_CHROMIUM_FLAGS=(
            f"--disable-gpu --use-fake-device-for-media-stream --use-file-for-fake-audio-capture={microphone}%noloop"
        ),
    )


@contextlib.contextmanager
def running(app: App) -> Iterator[App]:
    """Start ``app``; whatever happens in the test, it does not outlive it."""
    try:
        yield app.start()
    finally:
        app.kill()


def record_and_transcribe(
    page: DevTools, app: App, display: Display | None = None, live_shot: Path | None = None
) -> str:
    """Wait for the model, click Record, speak for RECORD_SECONDS, click Stop; the transcript's text.
    With ``live_shot``, the window is photographed once live text shows while recording."""
    wait_until(
        lambda: page.evaluate("document.querySelector('#model-pill').dataset.state") == "ready",
        120,
        "the model to be ready",
        ignoring=NOT_YET,
    )
    app.timings.ready = app.elapsed()
    page.click("#record")
    wait_until(
        lambda: page.evaluate("document.querySelector('#record').dataset.recording") == "true",
        10,
        "recording",
        ignoring=NOT_YET,
    )
    started = time.monotonic()
    if live_shot is not None:
        confirmed = "document.querySelector('#live-confirmed').innerText.trim().length > 0"
        wait_until(lambda: page.evaluate(confirmed), 20, "confirmed live text while recording", ignoring=NOT_YET)
        page.evaluate(PAINTED)
        display.screenshot(live_shot, TITLE)
    time.sleep(max(0.0, RECORD_SECONDS - (time.monotonic() - started)))  # the phrase is this long
    page.click("#record")
    wait_until(
        lambda: page.evaluate("document.querySelector('#status-icon').dataset.phase") == "done",
        120,
        "the transcription to finish",
        ignoring=NOT_YET,
    )
    text = page.evaluate("document.querySelector('[data-testid=transcript]').innerText.trim()")
    app.timings.transcript = app.elapsed()
    return text


RECORDED_LEVEL = """(async () => {
  const recording = await (await fetch(document.querySelector('#player').src)).arrayBuffer();
  const audio = await new OfflineAudioContext(1, 16000, 16000).decodeAudioData(recording);
  const samples = audio.getChannelData(0);
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return Math.sqrt(sum / samples.length);
})()"""


#: Resolves once the window has painted what the page shows (two animation frames), or after half a
#: second where frames are throttled: a screenshot right after a change can catch the frame before it.
PAINTED = "new Promise((done) => { requestAnimationFrame(() => requestAnimationFrame(done)); setTimeout(done, 500); })"


def check_recording(page: DevTools) -> None:
    """The recording the page kept carries the fake microphone's speech, not silence (RMS of espeak ≈ 0.1)."""
    level = page.evaluate(RECORDED_LEVEL)
    assert level > 0.02, f"the recording is silent (RMS {level:.4f})"


def check_transcript(text: str) -> None:
    heard = text.lower().replace(".", "").replace(",", "").split()
    missing = [word for word in PHRASE.split() if word not in heard]
    assert not missing, f"{missing} missing from the transcript {text!r}"


def close_and_check(display: Display, app: App) -> None:
    """Close the window as the user would who chose not to keep Hush running in the background
    (``/api/desktop``): the process exits 0 and the port is free again."""
    from desktop import instance

    running = wait_until(lambda: instance.read(Path(app.env["HUSH_DATA_DIR"])), 30, "the instance file")
    running.call("PATCH", "api/desktop", {"keep_running": False})
    port = urlsplit(app.url).port if app.url else None
    closed = time.monotonic()
    display.close(TITLE)
    code = app.wait_for_exit()
    app.timings.exit_after_close = round(time.monotonic() - closed, 2)
    assert code == 0, f"exit status {code}:\n{app.output()}"
    assert port is None or port_is_closed(port), f"port {port} is still open after the app exited"


def save_report(name: str, data: dict) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT.parent / f"{name}.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    print(f"\n{name}: {json.dumps(data, indent=2)}")
    return path
