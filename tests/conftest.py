"""Shared fixtures: tiny checkpoints, spoken test audio, and a live server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from backend.settings import Settings
from backend.web.server import Server
from tests.support.fake_hub import HUB_REPO
from tests.support.helpers import ROOT, require_tool, wait_until
from tests.support.media import MEDIA_FORMATS, encode

pytest_plugins = ["tests.support.real_weights", "tests.support.peers"]

#: The committed checkpoint trained on the 20-word vocabulary (tests/assets/tiny-whisper-words/train.py).
WORDS_CHECKPOINT = ROOT / "tests" / "assets" / "tiny-whisper-words"


@pytest.fixture
def no_internet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """This process cannot reach anything beyond loopback, and its hub cache is empty."""
    import socket

    import huggingface_hub.constants

    real_connect = socket.socket.connect

    def loopback_only(sock: socket.socket, address) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost")):
            raise OSError(101, f"Network is unreachable (blocked by the test): {host}")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))


@pytest.fixture(scope="session")
def random_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Whisper checkpoint with the real token layout whose greedy output is words."""
    from tests.support.tiny_whisper import build_checkpoint

    return build_checkpoint(tmp_path_factory.mktemp("random-whisper"))


@pytest.fixture(scope="session")
def words_checkpoint() -> Path:
    """The trained tiny Whisper that understands the 20-word vocabulary."""
    assert (WORDS_CHECKPOINT / "config.json").is_file(), "tests/assets/tiny-whisper-words is missing"
    return WORDS_CHECKPOINT


@pytest.fixture(scope="session")
def speak(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``speak("three seven stop go")`` → a WAV file spoken by espeak-ng (cached per text)."""
    espeak = require_tool("espeak-ng")
    folder = tmp_path_factory.mktemp("speech")

    def make(
        text: str, voice: str = "en-us", wpm: int = 160, pad_seconds: float = 0.0, trail_seconds: float | None = None
    ) -> Path:
        """``pad_seconds`` of silence before the speech and after it (``trail_seconds`` after, if given)."""
        trail = pad_seconds if trail_seconds is None else trail_seconds
        key = f"{text}_{voice}_{wpm}_{pad_seconds}_{trail}"
        digest = hashlib.sha1(key.encode()).hexdigest()[:10]  # a long text would otherwise cut the settings off
        path = folder / f"{''.join(c if c.isalnum() else '_' for c in key)[:80]}_{digest}.wav"
        if not path.exists():
            subprocess.run([espeak, "-v", voice, "-s", str(wpm), "-w", str(path), text], check=True)
            if pad_seconds or trail:
                sox = require_tool("sox")
                padded = path.with_suffix(".padded.wav")
                subprocess.run([sox, str(path), str(padded), "pad", str(pad_seconds), str(trail)], check=True)
                padded.replace(path)
        return path

    return make


@pytest.fixture(scope="session")
def speech_samples(speak) -> tuple[np.ndarray, int]:
    """A short spoken phrase as float samples at espeak-ng's own rate (22.05 kHz)."""
    with av.open(str(speak("three seven stop go", pad_seconds=0.5))) as container:
        stream = container.streams.audio[0]
        frames = [f.to_ndarray().astype(np.float32).reshape(-1) / 32768.0 for f in container.decode(stream)]
        return np.concatenate(frames), stream.rate


@pytest.fixture(scope="session")
def media(tmp_path_factory, speech_samples) -> dict[str, Path]:
    """The spoken phrase in every format of MEDIA_FORMATS, plus its true length under ``"seconds"``."""
    folder = tmp_path_factory.mktemp("media")
    samples, rate = speech_samples
    return {kind: encode(samples, rate, folder / f"speech.{kind}", kind) for kind in MEDIA_FORMATS}


class LiveServer:
    """A real Hush server (uvicorn, in a thread) on a free port of 127.0.0.1."""

    def __init__(self, settings: Settings) -> None:
        self.server = Server(settings)
        self.server.start()
        self.url = self.server.base_url.rstrip("/")
        self.token = self.server.token
        self.models = self.server.app.state.models
        self.jobs = self.server.app.state.jobs

    @property
    def engine(self):
        """The engine in use now (it changes when the model is switched)."""
        return self.models.engine()

    def wait_until_ready(self, timeout: float = 120.0) -> None:
        status = self.models.wait_until_loaded(timeout)
        assert status.state == "ready", status

    def client(self, token: str | None = "", **kwargs) -> httpx.Client:
        """An HTTP client that sends the server's token (another ``token``, or none with ``None``)."""
        token = self.token if token == "" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, timeout=120, headers=headers, **kwargs)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture(scope="session")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``start_server(model=folder, **settings)`` → a running LiveServer, stopped at the end."""
    servers: list[LiveServer] = []

    def start(**overrides) -> LiveServer:
        values = {"host": "127.0.0.1", "port": 0, "data_dir": tmp_path_factory.mktemp("data"), **overrides}
        live = LiveServer(Settings(**{k: str(v) if isinstance(v, Path) else v for k, v in values.items()}))
        servers.append(live)
        return live

    yield start
    for live in servers:
        live.stop()


@pytest.fixture(scope="session")
def random_server(start_server, random_checkpoint) -> LiveServer:
    """A live server with the random-weight checkpoint, model loaded."""
    live = start_server(model=random_checkpoint)
    live.wait_until_ready()
    return live


@pytest.fixture(scope="session")
def words_server(start_server, words_checkpoint) -> LiveServer:
    """A live server with the trained 20-word checkpoint, model loaded."""
    live = start_server(model=words_checkpoint)
    live.wait_until_ready()
    return live


class Backend:
    """``python -m backend`` as a separate process on ``data_dir``, as a person starts it."""

    def __init__(self, checkpoint: Path, data_dir: Path, **env: str) -> None:
        self.token = "test-token-0123456789abcdef"
        variables = {
            **os.environ,
            "HUSH_MODEL": str(checkpoint),
            "HUSH_DATA_DIR": str(data_dir),
            "HUSH_TOKEN": self.token,
            "HUSH_PORT": "0",
            # A stop that hangs is answered with SIGABRT (``stop``): every thread's stack then goes to the output.
            "PYTHONFAULTHANDLER": "1",
            **env,
        }
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend"],
            cwd=ROOT,
            env=variables,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        self.url = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        wait_until(lambda: self.url or self.process.poll() is not None, 60, "python -m backend to print its URL")
        if not self.url:
            pytest.fail("python -m backend exited:\n" + "".join(self.output))
        self.client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=120)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)
            if not self.url and (match := re.search(r"Hush is listening on (http://127\.0\.0\.1:\d+/)", line)):
                self.url = match.group(1)

    def wait_until_ready(self, timeout: float = 120) -> None:
        wait_until(lambda: self.client.get("api/health").json()["model"]["state"] == "ready", timeout, "the model")

    def job(self, job_id: str) -> dict:
        return self.client.get(f"api/transcriptions/{job_id}").json()

    def wait_for_job(self, job_id: str, done: Callable[[dict], bool], timeout: float = 120) -> dict:
        """The job once ``done(job)`` holds."""

        def finished() -> dict | None:
            job = self.job(job_id)
            return job if done(job) else None

        return wait_until(finished, timeout, f"job {job_id}")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> tuple[int, float]:
        """Send ``sig``; returns the exit code and the seconds the process took to exit."""
        signalled = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)  # faulthandler prints where each thread is
            self.process.wait(30)
            self._reader.join(10)
            pytest.fail(f"python -m backend still ran {timeout} s after {sig.name}:\n" + "".join(self.output[-150:]))
        self.client.close()
        return code, time.monotonic() - signalled


@pytest.fixture
def launch_backend() -> Iterator[Callable[..., Backend]]:
    """Factory: ``launch_backend(checkpoint, data_dir, **HUSH_env)`` → a started ``python -m backend``;
    any still running at the end of the test is killed."""
    launched: list[Backend] = []

    def launch(checkpoint: Path, data_dir: Path, **env: str) -> Backend:
        launched.append(Backend(checkpoint, data_dir, **env))
        return launched[-1]

    yield launch
    for backend in launched:
        if backend.process.poll() is None:
            backend.process.kill()
            backend.process.wait(30)


@pytest.fixture(scope="session")
def hush_peer(tiny_en_converted, tmp_path_factory) -> Iterator[Backend]:
    """``python -m backend`` on real whisper-tiny.en: the Hush server a Hush client points at
    (``url + "v1"`` with its ``token`` as the key)."""
    backend = Backend(tiny_en_converted, tmp_path_factory.mktemp("hush-peer"))
    backend.wait_until_ready(180)
    yield backend
    backend.process.kill()
    backend.process.wait(30)


# -- slow mode and the figures the reliability tests report ------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="fuzz with the full input counts (or HUSH_SLOW_TESTS=1)")


@pytest.fixture(scope="session")
def slow(request: pytest.FixtureRequest) -> bool:
    """Whether the fuzzers run their full counts (over 10,000 inputs) instead of the quick ones."""
    return bool(request.config.getoption("--slow") or os.environ.get("HUSH_SLOW_TESTS") == "1")


#: ``figure name → value``, filled by the reliability tests, printed at the end of the run.
FIGURES: dict[str, int | float | str] = {}


@pytest.fixture(scope="session")
def figures() -> dict[str, int | float | str]:
    return FIGURES


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Print the reliability figures and keep them in test-output/reliability.json."""
    if not FIGURES:
        return
    import json

    terminalreporter.section("reliability figures")
    for name, value in FIGURES.items():
        terminalreporter.write_line(f"{name}: {value}")
    (ROOT / "test-output").mkdir(exist_ok=True)
    (ROOT / "test-output" / "reliability.json").write_text(json.dumps(FIGURES, indent=2) + "\n")


@pytest.fixture
def hub(random_checkpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A fake Hugging Face hub on 127.0.0.1 serving the random checkpoint as ``HUB_REPO``,
    slowly enough (1 MB/s) that download progress is seen, and an empty hub cache."""
    import huggingface_hub.constants

    from tests.support.fake_hub import FakeHub

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    fake = FakeHub({HUB_REPO: random_checkpoint}, bytes_per_second=1_000_000)
    yield fake
    fake.stop()
