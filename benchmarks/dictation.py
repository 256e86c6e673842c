"""Dictation: 5 s of speech uploaded over HTTP until the JSON transcript is back, against faster-whisper.

    python benchmarks/dictation.py [--clips 5] [--repeats 3] [--threads N]

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
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from common import table
from long_form import english_speech, whisper_base, word_error_rate
from wer import Server

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


def wav(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(english_speech.SAMPLE_RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


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
                        upload = wav(clip)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads for both systems")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
