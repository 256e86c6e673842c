"""Memory of whisper-small's architecture over 1 and 10 minutes of speech, both long-form paths.

    python benchmarks/long_audio.py [--minutes 1,10] [--paths batched,sequential] [--threads N]

Random weights of the exact whisper-small architecture (int8, Hush's default on the CPU),
each run in a process of its own: the RSS after importing the engine (torch,
transformers), after loading the model, and the process's high-water mark (VmHWM: loading
included), with the time the transcription took. The audio is read English with pauses
(``tests/support/english_speech.py``), so the VAD finds speech to cut; random weights decode a
fixed number of tokens per window (end-of-text and timestamps suppressed), so the work
per window is that of real speech. Targets: peak <= 900 MB, and 10 minutes no more than
100 MB over 1 minute.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from common import CACHE, ROOT, table, whisper_small, with_fixed_tokens
from long_form import recording

CHILD = """
import json, sys, time
def rss(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith(field))
folder, wav, path, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
import torch
if threads:
    torch.set_num_threads(threads)
from backend.audio import decode
from backend.engine.engine import Engine
from backend.transcript import Options
imported = rss("VmRSS")
engine = Engine(folder, device="cpu", long_form=path)
engine.start()
assert engine.wait_until_loaded().state == "ready", engine.status.detail
loaded = rss("VmRSS")
audio = decode(wav)
started = time.perf_counter()
result = engine.transcribe(audio, Options(language="en", temperature=0, words=False))
print(json.dumps({"seconds": time.perf_counter() - started, "segments": len(result.segments),
                  "imported": imported, "loaded": loaded, "peak": rss("VmHWM")}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", default="1,10")
    parser.add_argument("--paths", default="batched,sequential")
    parser.add_argument("--tokens", type=int, default=100, help="decoded tokens per 30 s window")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    minutes = [float(m) for m in args.minutes.split(",")]
    recordings = {length: recording(length, seed=7)[0] for length in minutes}  # each as long as measured
    folder = with_fixed_tokens(whisper_small(), args.tokens)
    print(f"whisper-small architecture (random weights, int8), read English, {args.tokens} tokens per window")
    rows, peaks = [], {}
    for path in args.paths.split(","):
        for length in minutes:
            code = [sys.executable, "-c", CHILD, str(folder), str(recordings[length]), path, str(args.threads)]
            child = subprocess.run(code, capture_output=True, text=True, cwd=str(ROOT))
            if child.returncode != 0:
                print(child.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"{path}, {length:g} min failed")
            out = json.loads(child.stdout.strip().splitlines()[-1])
            peaks[path, length] = out["peak"]
            memory = (str(out["imported"]), str(out["loaded"]), str(out["peak"]))
            rows.append((path, f"{length:g}", f"{out['seconds']:.0f}", *memory))
            print(f"  {path} {length:g} min: peak {out['peak']} MB", file=sys.stderr, flush=True)
    header = ("long form", "minutes", "transcribe s", "RSS imported MB", "RSS loaded MB", "peak RSS MB")
    print(table(rows, header))
    if len(minutes) > 1:
        for path in args.paths.split(","):
            grown = peaks[path, max(minutes)] - peaks[path, min(minutes)]
            print(f"{path}: {max(minutes):g} min peak {grown:+d} MB over {min(minutes):g} min (target <= 100 MB)")
    print(f"peak target <= 900 MB; audio cached in {CACHE}")


if __name__ == "__main__":
    main()
