"""Shared fixtures: tiny checkpoints, spoken test audio, and a live server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import httpx
import numpy as np
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


#: container, audio codec, sample rate, channels, video codec: what browsers and users send.
MEDIA_FORMATS = {
    "webm": ("webm", "libopus", 48_000, 1, None),
    "ogg": ("ogg", "libopus", 48_000, 2, None),
    "wav": ("wav", "pcm_s16le", 22_050, 1, None),
    "mp3": ("mp3", "libmp3lame", 44_100, 2, None),
    "m4a": ("ipod", "aac", 44_100, 2, None),
    "flac": ("flac", "flac", 32_000, 1, None),
    "mp4": ("mp4", "aac", 48_000, 2, "mpeg4"),
    "mkv": ("matroska", "libopus", 48_000, 2, "libvpx"),
}


def encode(samples: np.ndarray, rate: int, path: Path, kind: str, video_only: bool = False) -> Path:
    """Write mono float ``samples`` at ``rate`` as ``kind`` (see MEDIA_FORMATS) with PyAV.

    The audio is resampled by FFmpeg to the format's own rate and channel count, so
    decoding it back exercises the real resampling and down-mixing paths. Videos get
    a small moving picture; ``video_only`` leaves the audio track out.
    """
    container_format, codec, out_rate, channels, video_codec = MEDIA_FORMATS[kind]
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w", format=container_format) as container:
        video = None
        if video_codec:
            video = container.add_stream(video_codec, rate=10)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = None if video_only else container.add_stream(codec, rate=out_rate, layout=layout)
        if audio is not None:
            resampler = av.AudioResampler(format=audio.codec_context.format or "fltp", layout=layout, rate=out_rate)
            block = 1024
            for start in range(0, len(samples), block):
                chunk = samples[start : start + block].astype(np.float32)
                frame = av.AudioFrame.from_ndarray(chunk[np.newaxis, :], format="flt", layout="mono")
                frame.sample_rate, frame.pts = rate, start
                for resampled in resampler.resample(frame):
                    container.mux(audio.encode(resampled))
            for resampled in resampler.resample(None):
                container.mux(audio.encode(resampled))
            container.mux(audio.encode(None))
        if video is not None:
            for i in range(max(1, int(len(samples) / rate * 10))):
                image = np.full((48, 64, 3), (i * 7) % 255, dtype=np.uint8)
                container.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            container.mux(video.encode(None))
    return path


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
        self.engine = self.server.app.state.engine

    def wait_until_ready(self, timeout: float = 120.0) -> None:
        status = self.engine.wait_until_loaded(timeout)
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


HUB_REPO = "hush-tests/tiny-whisper"


@pytest.fixture
def hub(random_checkpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A fake Hugging Face hub on 127.0.0.1 serving the random checkpoint as ``HUB_REPO``,
    slowly enough (1 MB/s) that download progress is seen, and an empty hub cache."""
    import huggingface_hub.constants

    from fake_hub import FakeHub

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    fake = FakeHub({HUB_REPO: random_checkpoint}, bytes_per_second=1_000_000)
    yield fake
    fake.stop()
