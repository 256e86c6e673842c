"""Ten minutes of audio through Hush's engine: total time and peak memory.

    python benchmarks/long_audio.py [--minutes 10] [--tokens 100] [--threads N]

Random whisper-small weights decode a fixed number of tokens per 30 s window (about
what real speech yields), so the work matches a real transcription. Each precision runs
in its own process so its peak RSS (model, audio, features, decoding) is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from common import ROOT, table, whisper_small, with_fixed_tokens

CHILD = """
import json, resource, sys, time
import numpy as np, torch
if {threads}: torch.set_num_threads({threads})
from backend.engine import Engine, Options
engine = Engine({folder!r}, device="cpu", precision={precision!r})
engine.start()
assert engine.wait_until_loaded().state == "ready", engine.status.detail
loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
audio = (np.random.default_rng(0).standard_normal(int({minutes} * 60 * 16_000)) * 0.1).astype(np.float32)
started = time.perf_counter()
result = engine.transcribe(audio, Options("en", temperature=0))
print(json.dumps({{"seconds": time.perf_counter() - started, "segments": len(result.segments),
                  "covered": result.segments[-1].end if result.segments else 0, "rss_loaded_kb": loaded,
                  "rss_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--tokens", type=int, default=100, help="decoded tokens per 30 s window")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--precisions", default="int8,float32")
    args = parser.parse_args()
    folder = with_fixed_tokens(whisper_small(), args.tokens)
    print(
        f"{args.minutes:g} min of audio, whisper-small architecture, {args.tokens} tokens per 30 s window", flush=True
    )
    rows = []
    for precision in args.precisions.split(","):
        code = CHILD.format(folder=str(folder), precision=precision, minutes=args.minutes, threads=args.threads)
        started = time.perf_counter()
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT))
        if child.returncode != 0:
            print(child.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"{precision} failed")
        out = json.loads(child.stdout.strip().splitlines()[-1])
        rows.append(
            (
                precision,
                f"{out['seconds']:.1f}",
                f"{args.minutes * 60 / out['seconds']:.1f}x",
                f"{out['covered']:.0f} s / {out['segments']}",
                f"{out['rss_loaded_kb'] / 1024:.0f}",
                f"{out['rss_peak_kb'] / 1024:.0f}",
                f"{time.perf_counter() - started:.0f}",
            )
        )
        print(f"  {precision}: {out['seconds']:.1f} s", file=sys.stderr, flush=True)
    print(
        table(
            rows,
            ("precision", "transcribe s", "real-time", "covered / segments", "RSS loaded MB", "peak RSS MB", "wall s"),
        )
    )
    print("\npeak RSS is the process's maximum (model + audio + features + decoding); target <= 1200 MB")


if __name__ == "__main__":
    main()
