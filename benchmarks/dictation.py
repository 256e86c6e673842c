"""Dictation: 5 s of speech uploaded over HTTP until the JSON transcript is back, against faster-whisper.

    python benchmarks/dictation.py [--clips 5] [--repeats 3] [--threads N]
    python benchmarks/dictation.py --end-to-end [--repeats 5]

``--end-to-end``: dictation into another app as a person does it, under Xvfb: Hush's window
records a 5 s clip through Chromium's fake microphone while Ctrl+Shift+Space is held (XTest),
and the time is taken from the keys' release to the whole text read back from a separate Tk app
that has the focus (it saves its text every 20 ms), with real whisper-base and tiny.en; beside
it, faster-whisper int8's transcription time of the same clip (no recording, no typing). The
indicator's live text runs while the keys are held (its own ``/api/live`` session), as in use.

Real whisper-base (``scripts/fetch_weights.py``): Hush as ``python -m backend`` on
127.0.0.1 gets each clip as a WAV upload (language detected, greedy: ``temperature=0``),
with its words placed in time (its default) and without; faster-whisper int8 transcribes
the same samples in a process of its own (language detected, greedy, one beam), timed
from the call to the last segment. Clips are espeak-ng sentences (``tests/support/english_speech.py``)
padded with silence to 5 s. Medians over clips x repeats after one untimed run each; the
ratio is Hush's time over faster-whisper's, measured side by side in this run.
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
from pathlib import Path

import numpy as np
from common import CACHE, table
from long_form import english_speech, fetch_weights, whisper_base, word_error_rate
from wer import Server

from backend.audio import wav_bytes

SECONDS = 5.0
FASTER_WHISPER = """
import json, sys, time
import numpy as np
from faster_whisper import WhisperModel
folder, clips, repeats, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
model = WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=threads)
audio = np.load(clips)
times, texts = [], []
for clip in audio:
    for attempt in range(repeats + 1):
        started = time.perf_counter()
        segments, _ = model.transcribe(clip, beam_size=1, temperature=0.0)
        text = " ".join(s.text.strip() for s in segments)
        if attempt:
            times.append(time.perf_counter() - started)
    texts.append(text)
print(json.dumps({"times": times, "texts": texts}))
"""


def clips(count: int) -> tuple[np.ndarray, list[str]]:
    """``count`` sentences of 3-5 s, each padded with silence to 5 s (0.3 s before it)."""
    texts, audio = [], []
    for text in english_speech.sentences(60, seed=23):
        voice, variant = english_speech.VOICES[len(audio) % len(english_speech.VOICES)]
        speech = english_speech.speech_corpus.synthesize(text, voice, variant, 165, 50)
        lead = int(0.3 * english_speech.SAMPLE_RATE)
        if 3.0 <= len(speech) / english_speech.SAMPLE_RATE <= SECONDS - 0.5:
            clip = np.zeros(int(SECONDS * english_speech.SAMPLE_RATE), np.float32)
            clip[lead : lead + len(speech)] = speech * 0.8
            texts.append(text)
            audio.append(clip)
        if len(audio) == count:
            break
    return np.stack(audio), texts


def hush(model: Path, audio: np.ndarray, repeats: int, threads: int) -> dict[str, dict]:
    """Latencies and texts over HTTP, with words placed and without."""
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="hush-dictation-") as data:
        server = Server(model, Path(data), threads)
        try:
            with server.client() as client:
                server.wait_until_ready(client)
                for words in (True, False):
                    times, texts = [], []
                    for clip in audio:
                        upload = wav_bytes(clip)
                        for attempt in range(repeats + 1):
                            started = time.perf_counter()
                            response = client.post(
                                "/api/transcriptions",
                                files={"file": ("dictation.wav", upload, "audio/wav")},
                                data={"temperature": "0", "words": str(words).lower()},
                            )
                            elapsed = time.perf_counter() - started
                            response.raise_for_status()
                            if attempt:
                                times.append(elapsed)
                        texts.append(response.json()["text"])
                    results["hush" + (" (words)" if words else "")] = {"times": times, "texts": texts}
        finally:
            server.stop()
    return results


def faster_whisper(folder: Path, audio: np.ndarray, repeats: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".npy") as samples:
        np.save(samples.name, audio)
        command = [sys.executable, "-c", FASTER_WHISPER, str(folder), samples.name, str(repeats), str(threads)]
        child = subprocess.run(command, capture_output=True, text=True)
    if child.returncode != 0:
        raise SystemExit(child.stderr[-3000:])
    return json.loads(child.stdout.strip().splitlines()[-1])


RECORDING = "document.documentElement.dataset.dictation === 'recording'"


def xvfb() -> tuple[subprocess.Popen, str]:
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        pass_fds=[write],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        return server, ":" + pipe.readline().strip()


def xdotool(display: str, *arguments: str) -> str:
    env = {**os.environ, "DISPLAY": display}
    return subprocess.run(["xdotool", *arguments], env=env, capture_output=True, text=True, check=True).stdout.strip()


def end_to_end(converted: Path, clip: np.ndarray, repeats: int) -> list[float]:
    """Seconds from the shortcut's release to the dictation's whole text in the focused Tk app."""
    from desktop import instance
    from tests.support.desktop import App, Display, free_port, open_page, running, window_environment
    from tests.support.helpers import ROOT, wait_until

    server, name = xvfb()
    times = []
    with tempfile.TemporaryDirectory(prefix="hush-dictation-e2e-") as folder:
        work = Path(folder)
        microphone = work / "clip.wav"
        microphone.write_bytes(wav_bytes(clip))
        state = work / "target.json"
        target = subprocess.Popen(
            [sys.executable, str(ROOT / "tests/support/text_target.py"), str(state)],
            env={**os.environ, "DISPLAY": name},
        )
        debug_port = free_port()
        env = window_environment(Display(name), work / "data", microphone, debug_port)
        app = App([sys.executable, "-m", "desktop", "--model", str(converted)], env, work / "hush.log")
        try:
            with running(app):
                page = open_page(debug_port, app.wait_for_url(300))
                ready = "document.querySelector('#model-pill').dataset.state === 'ready'"
                wait_until(lambda: page.evaluate(ready), 300, "the model", ignoring=(OSError, ValueError, KeyError))
                hush = wait_until(lambda: instance.read(work / "data"), 30, "the instance file")
                window = wait_until(lambda: xdotool(name, "search", "--name", "^Dictation target$"), 30, "Tk")
                xdotool(name, "windowfocus", "--sync", window.split()[0])
                for attempt in range(repeats + 1):
                    before = json.loads(state.read_text())["text"]
                    xdotool(name, "keydown", "ctrl+shift+space")
                    wait_until(lambda: page.evaluate(RECORDING), 20, "the recording")
                    time.sleep(SECONDS)
                    xdotool(name, "keyup", "ctrl+shift+space")
                    released = time.perf_counter()

                    def arrived(before: str = before) -> bool:
                        text = json.loads(state.read_text())["text"][len(before) :]
                        if not text:
                            return False
                        newest = hush.call("GET", "api/transcriptions?limit=1")["items"][0]
                        spoken = newest["text"].strip()
                        return newest["status"] == "done" and bool(spoken) and text.endswith(spoken)

                    problems = (OSError, ValueError, IndexError)
                    wait_until(arrived, 60, "the text in the Tk app", interval=0.01, ignoring=problems)
                    if attempt:
                        times.append(time.perf_counter() - released)
        finally:
            target.terminate()
            server.terminate()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads for both systems")
    parser.add_argument("--end-to-end", action="store_true", help="shortcut release to text in another app")
    args = parser.parse_args()
    if args.end_to_end:
        main_end_to_end(args.repeats, args.threads)
        return
    audio, references = clips(args.clips)
    ct2, converted = whisper_base()
    print(
        f"{args.clips} clips of {SECONDS:g} s read English, real whisper-base, greedy, language detected; "
        f"{args.threads} threads, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
        f"median of {args.clips} x {args.repeats}",
        flush=True,
    )
    results = {"faster-whisper int8": faster_whisper(ct2, audio, args.repeats, args.threads)}
    results.update(hush(converted, audio, args.repeats, args.threads))
    reference = statistics.median(results["faster-whisper int8"]["times"])
    rows = []
    for name, out in results.items():
        median = statistics.median(out["times"])
        error = word_error_rate(" ".join(references), " ".join(out["texts"]))
        rows.append(
            (name, f"{median:.3f}", f"{max(out['times']):.3f}", f"{median / reference:.2f}", f"{100 * error:.1f} %")
        )
    print(table(rows, ("system", "median s", "worst s", "time / faster-whisper", "WER")))
    print("target: Hush over HTTP <= 0.75x faster-whisper int8's time")


def main_end_to_end(repeats: int, threads: int) -> None:
    os.environ["HUSH_CACHE_DIR"] = str(CACHE / "hush-cache")  # conversions made once, as whisper_base() does
    from backend.checkpoints import locate

    audio, references = clips(1)
    print(
        f"one {SECONDS:g} s dictation held for {SECONDS:g} s, {repeats} times after one untimed; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; spoken: {references[0]!r}",
        flush=True,
    )
    rows = []
    for weights in ("whisper-base", "whisper-tiny.en"):
        ct2 = fetch_weights.weights_dir() / weights
        converted = Path(locate.locate(str(ct2)))
        hush = end_to_end(converted, audio[0], repeats)
        reference = statistics.median(faster_whisper(ct2, audio, repeats, threads)["times"])
        rows.append(
            (
                weights,
                f"{statistics.median(hush):.2f}",
                f"{min(hush):.2f}-{max(hush):.2f}",
                f"{reference:.2f}",
                f"{statistics.median(hush) / reference:.2f}",
            )
        )
    header = ("model", "Hush release → text in app, median s", "range s", "faster-whisper transcribe s", "ratio")
    print(table(rows, header))
    print("target: <= 1.0 s with whisper-base, <= 0.6 s with tiny.en (release to text)")


if __name__ == "__main__":
    main()
