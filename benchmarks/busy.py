"""Hush and faster-whisper on a busy computer, side by side: how much slower each gets when other
programs keep one or both cores busy.

    python benchmarks/busy.py [--rounds 3] [--levels 0,1,2] [--threads N]

Real whisper-base (``scripts/fetch_weights.py``), greedy, English, no word timing on either side.
The other programs are plain Python busy loops, one per busy core, started a second before each
measurement and stopped after it (what a browser tab, a video call or a build does to a laptop's
cores, at its worst). Each round measures, at every level of load:

- long-form: the 108 s recording (``tests/support/english_speech.py``) uploaded over HTTP to a Hush server
  (batched long-form, its default) / faster-whisper's ``BatchedInferencePipeline`` (batch 8);
- dictation: a 7 s clip over HTTP / ``WhisperModel.transcribe`` (median of 3);
- live: a 30 s recording played in real time into Hush's ``/api/live``: the median time of a live
  pass and the median confirmed lag (``live.py``'s measures); faster-whisper's nearest equivalent
  is transcribing the first 10 s of it (median of 3), the buffer a pass hears.

Hush's server runs in this process (its live passes are timed from inside, as ``live.py`` does;
the player and faster-whisper have processes of their own). The slowdown is each system's time
at a level over its own quiet time in the same round; the table gives the median and the range
over rounds. The goal: with one core busy Hush slows down by at most faster-whisper's slowdown +
0.5, with both busy by at most 2.5x (proportional: one core left of two, shared three ways).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
from common import CACHE, table
from live import Passes, converted, first_seen, lags, stream_live, wav_bytes
from long_form import recording, whisper_base

from tests.support.word_error import normalise

SAMPLE_RATE = 16_000
LIVE_MINUTES = 0.5
PASS_SECONDS = 10.0

FASTER_WHISPER = """
import json, sys, time
from faster_whisper import BatchedInferencePipeline, WhisperModel
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8", cpu_threads=int(sys.argv[2]))
batched = BatchedInferencePipeline(model)
options = dict(language="en", beam_size=1, temperature=0.0)
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    job = json.loads(line)
    times = []
    for _ in range(job["repeats"]):
        started = time.perf_counter()
        if job["batched"]:
            segments, _ = batched.transcribe(job["path"], batch_size=8, **options)
        else:
            segments, _ = model.transcribe(job["path"], vad_filter=False, **options)
        text = " ".join(s.text.strip() for s in segments)
        times.append(time.perf_counter() - started)
    print(json.dumps({"seconds": times, "text": text}), flush=True)
"""


@contextmanager
def busy(cores: int) -> Iterator[None]:
    """``cores`` other programs, each keeping one core busy, for the duration."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        time.sleep(1.0 if cores else 0.2)
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


class FasterWhisper:
    """faster-whisper int8 in a process of its own, the model loaded once."""

    def __init__(self, folder: Path, threads: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", FASTER_WHISPER, str(folder), str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._read()

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("faster-whisper's process ended")
        return json.loads(line)

    def seconds(self, path: Path, batched: bool, repeats: int = 1) -> float:
        self.process.stdin.write(json.dumps({"path": str(path), "batched": batched, "repeats": repeats}) + "\n")
        self.process.stdin.flush()
        return statistics.median(self._read()["seconds"])

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(30)


class Hush:
    """A Hush server on real weights in this process, and a client for its HTTP API."""

    def __init__(self, folder: Path, data: str) -> None:
        from backend.settings import Settings
        from backend.web.server import Server

        self.server = Server(Settings(model=str(folder), data_dir=data, port=0))
        self.server.start()
        self.server.app.state.models.wait_until_loaded(600)
        headers = {"Authorization": f"Bearer {self.server.token}"}
        self.client = httpx.Client(base_url=self.server.base_url, headers=headers, timeout=900)

    def transcribe(self, audio: bytes, words: bool = False) -> dict:
        form = {"language": "en", "temperature": "0", "words": str(words).lower()}
        response = self.client.post("api/transcriptions", files={"file": ("clip.wav", audio)}, data=form)
        response.raise_for_status()
        return response.json()

    def seconds(self, audio: bytes, repeats: int = 1) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            self.transcribe(audio)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    def live(self, samples: np.ndarray, reference: list[tuple[str, float]]) -> tuple[float, float]:
        """The median live pass's seconds and the median confirmed lag of a session in real time."""
        with Passes() as passes:
            received, _ = stream_live(self.server.base_url, self.server.token, samples)
        live_words = normalise(received[-1][1] if received else "")
        confirmed = lags(first_seen(received, live_words, tentative=False), live_words, reference)
        return statistics.median(passes.seconds), statistics.median(confirmed) if confirmed else float("nan")

    def close(self) -> None:
        self.client.close()
        self.server.stop()


def clip(seconds: float, seed: int) -> tuple[Path, np.ndarray]:
    """A cached recording of about ``seconds`` of speech: its WAV and its samples."""
    path, _ = recording(seconds / 60, seed)
    with wave.open(str(path)) as wav:
        return path, np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float32) / 32768


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--levels", default="0,1,2", help="busy cores to measure at, comma-separated; 0 first")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="faster-whisper's cpu_threads")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    assert levels[0] == 0, "the quiet level comes first: slowdowns are measured against it"

    long_wav, _ = clip(108, 7)
    dictation_wav, _ = clip(7, 7)
    _, live_samples = clip(LIVE_MINUTES * 60, 11)
    pass_wav = CACHE / "busy-live-pass.wav"
    pass_wav.write_bytes(wav_bytes(live_samples[: int(PASS_SECONDS * SAMPLE_RATE)]))
    ct2, _ = whisper_base()
    folder = converted("whisper-base")
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at the start; {args.rounds} rounds", flush=True)

    times: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="hush-busy-") as data:
        hush, fw = Hush(folder, data), FasterWhisper(ct2, args.threads)
        try:
            final = hush.transcribe(wav_bytes(live_samples), words=True)
            reference = [(t, w["end"]) for s in final["segments"] for w in s["words"] for t in normalise(w["word"])]
            long_bytes, dictation_bytes = long_wav.read_bytes(), dictation_wav.read_bytes()
            hush.seconds(dictation_bytes)  # warm-up
            fw.seconds(dictation_wav, batched=False)
            for round_ in range(args.rounds):
                for level in levels:
                    with busy(level):
                        measured = {
                            ("long-form", "hush"): hush.seconds(long_bytes),
                            ("long-form", "faster-whisper"): fw.seconds(long_wav, batched=True),
                            ("dictation", "hush"): hush.seconds(dictation_bytes, repeats=3),
                            ("dictation", "faster-whisper"): fw.seconds(dictation_wav, batched=False, repeats=3),
                            ("live pass", "faster-whisper"): fw.seconds(pass_wav, batched=False, repeats=3),
                        }
                        pass_seconds, lag = hush.live(live_samples, reference)
                        measured["live pass", "hush"] = pass_seconds
                        measured["confirmed lag", "hush"] = lag
                    for (workload, system), seconds in measured.items():
                        times[workload, system, level].append(seconds)
                    line = ", ".join(f"{w} {s} {t:.2f} s" for (w, s), t in measured.items())
                    print(f"round {round_ + 1}, {level} busy: {line}", file=sys.stderr, flush=True)
        finally:
            fw.close()
            hush.close()
    report(times, levels, args.rounds)


def report(times: dict[tuple[str, str, int], list[float]], levels: list[int], rounds: int) -> None:
    """The table of times and slowdowns, and each goal met or not."""
    header = ("workload", "system", "quiet s", *(f"{level} busy: x quiet" for level in levels[1:]))
    rows, slowdowns = [], {}
    for workload, system in dict.fromkeys((w, s) for w, s, _ in times):
        quiet = times[workload, system, 0]
        row = [workload, system, spread(quiet)]
        for level in levels[1:]:
            ratios = [t / q for t, q in zip(times[workload, system, level], quiet)]
            slowdowns[workload, system, level] = ratios
            row.append(spread(ratios))
        rows.append(tuple(row))
    print(table(rows, header))
    print(f"(median (range) over {rounds} rounds)")
    for workload in ("long-form", "dictation", "live pass"):
        if 1 in levels:
            hush = statistics.median(slowdowns[workload, "hush", 1])
            peer = statistics.median(slowdowns[workload, "faster-whisper", 1])
            verdict = "met" if hush <= peer + 0.5 else "NOT met"
            goal = f"goal <= x{peer + 0.5:.2f} {verdict}"
            print(f"{workload}, 1 busy core: Hush x{hush:.2f}, faster-whisper x{peer:.2f}: {goal}")
        if 2 in levels:
            hush = statistics.median(slowdowns[workload, "hush", 2])
            verdict = "met" if hush <= 2.5 else "NOT met"
            print(f"{workload}, 2 busy cores: Hush x{hush:.2f}: goal <= x2.50 {verdict}")


if __name__ == "__main__":
    main()
