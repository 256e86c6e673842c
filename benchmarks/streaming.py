"""A streamed answer: when the first text arrives, against the whole answer's time, and the same text.

    python benchmarks/streaming.py [--seconds 108] [--rounds 3]

Real whisper-base (``scripts/fetch_weights.py``) in ``python -m backend``; the recording is read
English (``tests/support/english_speech.py``), posted to ``/v1/audio/transcriptions`` with
``stream=true`` as the OpenAI SDK does, and once without. Prints, per round, the seconds to the first
``transcript.text.delta`` and to ``transcript.text.done``, their ratio, and whether the streamed text
equals the unstreamed one. Goal: the first delta within 40 % of the answer's time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from common import table
from long_form import recording, whisper_base
from wer import Server

FORM = {"model": "whisper-1", "language": "en", "temperature": "0"}


def streamed(client, audio: bytes) -> tuple[float, float, str]:
    """Seconds to the first delta and to the end, and the final text."""
    started = time.perf_counter()
    first = None
    with client.stream("POST", "/v1/audio/transcriptions", files={"file": ("speech.wav", audio)},
                       data={**FORM, "stream": "true"}) as response:  # fmt: skip
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line.removeprefix("data: "))
            if event["type"] == "transcript.text.delta" and first is None:
                first = time.perf_counter() - started
            if event["type"] == "transcript.text.done":
                return first or float("nan"), time.perf_counter() - started, event["text"]
    raise SystemExit("the stream ended without transcript.text.done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=108)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    wav, _ = recording(args.seconds / 60, seed=7)
    audio = wav.read_bytes()
    _, converted = whisper_base()
    rows, shares = [], []
    with tempfile.TemporaryDirectory(prefix="hush-streaming-") as data:
        server = Server(converted, Path(data), None)
        try:
            with server.client() as client:
                server.wait_until_ready(client)
                whole = client.post("/v1/audio/transcriptions", files={"file": ("speech.wav", audio)}, data=FORM)
                whole.raise_for_status()
                for round_ in range(args.rounds):
                    first, total, text = streamed(client, audio)
                    shares.append(first / total)
                    same = "yes" if text == whole.json()["text"] else "NO"
                    rows.append((str(round_ + 1), f"{first:.2f}", f"{total:.2f}", f"{first / total:.0%}", same))
        finally:
            server.stop()
    print(f"{args.seconds:g} s of read English, real whisper-base, stream=true")
    print(table(rows, ("round", "first delta s", "done s", "first / done", "same text as unstreamed")))
    median = statistics.median(shares)
    verdict = "met" if median <= 0.4 else "NOT met"
    print(f"first delta at {median:.0%} of the answer's time (median): goal <= 40 % {verdict}")


if __name__ == "__main__":
    main()
