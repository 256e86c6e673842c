"""Shared fixtures: tiny checkpoints, spoken test audio, and a live server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from backend.server import Server
from backend.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
#: The committed checkpoint trained on the 20-word vocabulary (scripts/train_tiny_whisper.py).
WORDS_CHECKPOINT = ROOT / "tests" / "assets" / "tiny-whisper-words"


def require_tool(name: str) -> str:
    """The path of a command-line tool; missing tools fail in CI and skip elsewhere."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; the README's test command installs it.")
    pytest.skip(f"{name} is not installed (the README's test command installs it on Debian)")


@pytest.fixture(scope="session")
def random_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Whisper checkpoint with the real token layout whose greedy output is words."""
    from tiny_whisper import build_checkpoint

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

    def make(text: str, voice: str = "en-us", wpm: int = 160, pad_seconds: float = 0.0) -> Path:
        name = "".join(c if c.isalnum() else "_" for c in f"{text}_{voice}_{wpm}_{pad_seconds}")[:120]
        path = folder / f"{name}.wav"
        if not path.exists():
            subprocess.run([espeak, "-v", voice, "-s", str(wpm), "-w", str(path), text], check=True)
            if pad_seconds:
                sox = require_tool("sox")
                padded = path.with_suffix(".padded.wav")
                subprocess.run([sox, str(path), str(padded), "pad", str(pad_seconds), str(pad_seconds)], check=True)
                padded.replace(path)
        return path

    return make


class LiveServer:
    """A real Hush server (uvicorn, in a thread) on a free port of 127.0.0.1."""

    def __init__(self, settings: Settings) -> None:
        self.server = Server(settings)
        self.server.start()
        self.url = self.server.url.rstrip("/")
        self.engine = self.server.app.state.engine

    def wait_until_ready(self, timeout: float = 120.0) -> None:
        status = self.engine.wait_until_loaded(timeout)
        assert status.state == "ready", status

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120, **kwargs)

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
