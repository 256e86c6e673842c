"""Dictation latency: a 5 s recording uploaded over HTTP until the JSON transcript is back.

    python benchmarks/dictation.py [--seconds 5] [--tokens 20] [--repeats 5] [--threads N]

The real server (uvicorn on 127.0.0.1, the default precision) with random whisper-small
weights that decode a fixed number of tokens (a 5 s sentence is about 15–20 tokens).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
import wave

import httpx
import numpy as np
from common import table, whisper_small, with_fixed_tokens


def wav_bytes(seconds: float) -> bytes:
    samples = (np.random.default_rng(0).standard_normal(int(seconds * 16_000)) * 3000).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from backend.server import Server
    from backend.settings import Settings

    folder = with_fixed_tokens(whisper_small(), args.tokens)
    server = Server(Settings(model=str(folder), port=0, data_dir=folder.parent / "data"))
    server.start()
    engine = server.app.state.engine
    assert engine.wait_until_loaded().state == "ready", engine.status.detail
    upload = wav_bytes(args.seconds)
    headers = {"Authorization": f"Bearer {server.settings.token}"}
    latencies, timings = [], []
    with httpx.Client(base_url=server.url.split("?")[0].rstrip("/"), headers=headers, timeout=120) as client:
        for attempt in range(args.repeats + 1):
            started = time.perf_counter()
            response = client.post(
                "/api/transcriptions",
                files={"file": ("dictation.wav", upload, "audio/wav")},
                data={"temperature": "0"},  # greedy, as clear speech decodes; language is auto-detected
            )
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            if attempt:  # the first one warms the HTTP path
                latencies.append(elapsed)
                timings.append(response.json()["timings"])
    server.stop()
    median = statistics.median(latencies)
    stages = {
        k: statistics.median(t.get(k, 0.0) for t in timings)
        for k in ("decode", "features", "encode", "language", "generate", "total")
    }
    print(
        f"{args.seconds:g} s dictation, whisper-small architecture ({engine.precision}, {torch.get_num_threads()} "
        f"threads), {args.tokens} tokens; median of {args.repeats}"
    )
    rows = [
        ("upload → JSON", f"{median:.2f}", f"{max(latencies):.2f}"),
        *((f"  server: {k}", f"{v:.2f}", "") for k, v in stages.items()),
    ]
    print(table(rows, ("stage", "median s", "worst s")))
    print(f"\ntarget: <= 1.5 s upload → JSON; measured {median:.2f} s")


if __name__ == "__main__":
    main()
