"""Memory of whisper-small's architecture over 1 and 10 minutes of speech, both long-form paths.

    python benchmarks/long_audio.py [--minutes 1,10] [--paths batched,sequential] [--threads N] [--trace]
    python benchmarks/long_audio.py --engine ...     # the engine alone, words off

Random weights of the exact whisper-small architecture (int8, Hush's default on the CPU,
and whisper-small's alignment heads, so words are placed in time as with the real one),
measured as a user meets it: ``python -m backend`` in a process of its own, the model
loaded, then the recording posted once to ``/api/transcriptions`` over HTTP with the
default options (words on), and the server's high-water mark read (VmHWM: imports,
loading, the upload, decoding the file, the history and word timing included). Also the
RSS once the model is ready, the time the request took and the server's own share of it
(decoding the file + transcribing, from the response's ``timings``), and a digest of the
transcript with its words (with ``--threads 1`` the same code gives the same digest;
with more threads the team's size follows the machine's load, and the last bits of a sum
with it). ``--trace`` prints the server's RSS every 50 ms from the upload on, to see which
phase sets the peak. ``--engine`` runs ``Engine`` directly on the decoded samples with
words off, in a process of its own: the RSS after importing torch and transformers,
after loading, and the VmHWM.

The audio is read English with pauses (``tests/support/english_speech.py``), so the VAD finds
speech to cut; random weights decode a fixed number of tokens per window (end-of-text and
timestamps suppressed), so the work per window is that of real speech. For the same
reason the server is sent ``language=en`` and ``temperature=0`` (``--form``): random
weights left to fall back through six temperatures would decode every chunk six times,
work read speech never causes. Targets: peak <= 900 MB, and 10 minutes no more than
100 MB over 1 minute.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import CACHE, ROOT, WHISPER_SMALL_ALIGNMENT_HEADS, table, whisper_small, with_fixed_tokens
from long_form import recording, vm_hwm_kb
from wer import Server

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


def engine(folder: Path, wav: Path, path: str, threads: int) -> dict:
    """The engine alone, in a process of its own (words off)."""
    code = [sys.executable, "-c", CHILD, str(folder), str(wav), path, str(threads)]
    child = subprocess.run(code, capture_output=True, text=True, cwd=str(ROOT))
    if child.returncode != 0:
        print(child.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{path}, {wav.name} failed")
    out = json.loads(child.stdout.strip().splitlines()[-1])
    return {**out, "server": None, "words": "-", "digest": "-"}


def rss_mb(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith(field))


class Sampler(threading.Thread):
    """The RSS of a process every ``interval`` seconds, as (seconds since start, MB)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self.done = threading.Event()
        self.started_at = time.perf_counter()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            try:
                self.samples.append((time.perf_counter() - self.started_at, rss_mb(self.pid)))
            except (OSError, StopIteration):
                return

    def stop(self) -> list[tuple[float, int]]:
        self.done.set()
        self.join()
        return self.samples


def server(folder: Path, wav: Path, path: str, threads: int, trace: bool, fields: dict[str, str]) -> dict:
    """``python -m backend``, the model loaded, the recording posted once with the default options."""
    with tempfile.TemporaryDirectory(prefix="hush-long-audio-") as data:
        os.environ["HUSH_LONG_FORM"] = path  # read by the server it starts
        hush = Server(folder, Path(data), threads)
        try:
            with hush.client() as client:
                hush.wait_until_ready(client)
                pid = hush.process.pid
                loaded = rss_mb(pid)
                sampler = Sampler(pid)
                sampler.start()
                started = time.perf_counter()
                with wav.open("rb") as file:
                    response = client.post(
                        "/api/transcriptions",
                        files={"file": (wav.name, file, "audio/wav")},
                        data=fields,
                    )
                seconds = time.perf_counter() - started
                samples = sampler.stop()
                if response.status_code != 200:
                    raise SystemExit(f"{response.status_code}: {response.text[:500]}\n{hush.tail()}")
                peak = vm_hwm_kb(pid) // 1024
        finally:
            hush.stop()
    body = response.json()
    if trace:
        print(f"  RSS of the server every 50 ms from the upload on ({path}, {wav.name}), MB:", file=sys.stderr)
        print("  " + " ".join(f"{t:.2f}:{mb}" for t, mb in samples), file=sys.stderr)
    timings = body["timings"]
    return {
        "seconds": seconds,
        "segments": len(body["segments"]),
        "words": sum(len(s["words"]) for s in body["segments"]),
        "digest": hashlib.sha1(json.dumps(body["segments"], sort_keys=True).encode()).hexdigest()[:10],
        "imported": "-",
        "loaded": loaded,
        "peak": peak,
        "server": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", default="1,10")
    parser.add_argument("--paths", default="batched,sequential")
    parser.add_argument("--tokens", type=int, default=100, help="decoded tokens per 30 s window")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--engine", action="store_true", help="the engine alone (words off), not the server")
    parser.add_argument("--trace", action="store_true", help="print the server's RSS every 50 ms (stderr)")
    parser.add_argument(
        "--form", default="language=en,temperature=0", help="form fields posted with the file (words: the default)"
    )
    args = parser.parse_args()
    minutes = [float(m) for m in args.minutes.split(",")]
    recordings = {length: recording(length, seed=7)[0] for length in minutes}  # each as long as measured
    folder = with_fixed_tokens(whisper_small(), args.tokens, WHISPER_SMALL_ALIGNMENT_HEADS)
    where = "the engine alone, words off" if args.engine else "python -m backend, posted over HTTP, words on"
    print(f"whisper-small architecture (random weights, int8), read English, {args.tokens} tokens per window; {where}")
    rows, peaks = [], {}
    for path in args.paths.split(","):
        for length in minutes:
            if args.engine:
                out = engine(folder, recordings[length], path, args.threads)
            else:
                fields = dict(field.split("=", 1) for field in args.form.split(",") if field)
                out = server(folder, recordings[length], path, args.threads, args.trace, fields)
            peaks[path, length] = out["peak"]
            memory = (str(out["imported"]), str(out["loaded"]), str(out["peak"]))
            timings = out["server"]
            split = f"{timings['decode']:.1f} + {timings['total']:.1f}" if timings else "-"
            words = (str(out["words"]), out["digest"])
            rows.append((path, f"{length:g}", f"{out['seconds']:.1f}", split, *memory, *words))
            print(f"  {path} {length:g} min: peak {out['peak']} MB", file=sys.stderr, flush=True)
    header = (
        "long form", "minutes", "transcribe s", "server: file decode + engine s", "RSS imported MB", "RSS loaded MB",
        "peak RSS MB", "words", "digest",
    )  # fmt: skip
    print(table(rows, header))
    if len(minutes) > 1:
        for path in args.paths.split(","):
            grown = peaks[path, max(minutes)] - peaks[path, min(minutes)]
            print(f"{path}: {max(minutes):g} min peak {grown:+d} MB over {min(minutes):g} min (target <= 100 MB)")
    print(f"peak target <= 900 MB; audio cached in {CACHE}")


if __name__ == "__main__":
    main()
