"""Ten minutes of read English through Hush and faster-whisper, side by side: time, WER, peak memory.

    python benchmarks/long_form.py [--minutes 10] [--threads N] [--systems ...]

Real whisper-base (``scripts/fetch_weights.py`` puts its faster-whisper folder in
~/.cache/hush-test-weights), greedy decoding (temperature 0, one beam) everywhere.
faster-whisper reads the original CTranslate2 folder (int8); Hush the same weights
converted once into a transformers checkpoint. Hush runs as ``python -m backend`` and
gets the recording over HTTP, once per long-form path (``HUSH_LONG_FORM=batched`` and
``sequential``). Every system runs in its own process, one after the other, so each one's
peak RSS (VmHWM: loading included) is its own and the time ratios come from one run; with
``--rounds`` above 1 the systems take turns that many times and each keeps its fastest time
(on a machine other jobs share, the fastest is the one least disturbed).
The recording is espeak-ng speech with pauses (``tests/support/english_speech.py``), cached.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jiwer
from common import CACHE, table
from wer import Server

from scripts import fetch_weights
from tests.support import english_speech
from tests.support.word_error import normalise

SYSTEMS = (
    "hush-batched",
    "hush-batched+words",
    "hush-sequential",
    "faster-whisper-batched",
    "faster-whisper-sequential",
)

FASTER_WHISPER = """
import json, sys, time
from faster_whisper import BatchedInferencePipeline, WhisperModel
folder, path, threads, batched = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
model = WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=threads)
options = dict(language="en", beam_size=1, temperature=0.0)
started = time.perf_counter()
if batched:
    segments, _ = BatchedInferencePipeline(model).transcribe(path, batch_size=8, **options)
else:
    segments, _ = model.transcribe(path, vad_filter=False, **options)
text = " ".join(s.text.strip() for s in segments)
seconds = time.perf_counter() - started
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "text": text, "peak_kb": peak}))
"""


def recording(minutes: float, seed: int) -> tuple[Path, str]:
    """The cached WAV and its text."""
    path = CACHE / f"english-{minutes:g}min-seed{seed}.wav"
    if not path.exists() or not path.with_suffix(".txt").exists():
        print(f"synthesizing {minutes:g} min of speech into {path} …", file=sys.stderr, flush=True)
        audio, text = english_speech.recording(minutes, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        english_speech.speech_corpus.write_wav(path, audio)
        path.with_suffix(".txt").write_text(text + "\n")
    return path, path.with_suffix(".txt").read_text().strip()


def whisper_base() -> tuple[Path, Path]:
    """The CTranslate2 folder and Hush's conversion of it (made once, in the benchmarks' cache)."""
    weights = next(w for w in fetch_weights.MODELS if w.name == "whisper-base")
    folder = fetch_weights.weights_dir() / weights.name
    if not fetch_weights.is_ready(folder, weights):
        raise SystemExit(f"{folder} is missing: run python scripts/fetch_weights.py")
    os.environ["HUSH_CACHE_DIR"] = str(CACHE / "hush-cache")
    from backend.checkpoints import locate

    return folder, locate.locate(str(folder))


def vm_hwm_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def hush(model: Path, wav: Path, mode: str, words: bool, threads: int | None) -> dict:
    """``python -m backend``, model loaded, then the recording posted once over HTTP (``words``:
    with every word placed in time, Hush's default; faster-whisper places none unless asked)."""
    with tempfile.TemporaryDirectory(prefix="hush-long-form-") as data:
        os.environ["HUSH_LONG_FORM"] = mode  # read by the server it starts
        server = Server(model, Path(data), threads)
        try:
            with server.client() as client:
                server.wait_until_ready(client)
                started = time.perf_counter()
                with wav.open("rb") as file:
                    response = client.post(
                        "/api/transcriptions",
                        files={"file": (wav.name, file, "audio/wav")},
                        data={"language": "en", "temperature": "0", "words": str(words).lower()},
                    )
                seconds = time.perf_counter() - started
                response.raise_for_status()
                peak = vm_hwm_kb(server.process.pid)
        finally:
            server.stop()
    return {"seconds": seconds, "text": response.json()["text"], "peak_kb": peak}


def faster_whisper(folder: Path, wav: Path, batched: bool, threads: int) -> dict:
    child = subprocess.run(
        [sys.executable, "-c", FASTER_WHISPER, str(folder), str(wav), str(threads), "1" if batched else "0"],
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        raise SystemExit(child.stderr[-3000:])
    return json.loads(child.stdout.strip().splitlines()[-1])


def word_error_rate(reference: str, hypothesis: str) -> float:
    """jiwer's WER on both sides normalised alike (lower case, no punctuation)."""
    return jiwer.wer(" ".join(normalise(reference)), " ".join(normalise(hypothesis)) or "-")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads for every system")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, of {', '.join(SYSTEMS)}")
    parser.add_argument("--rounds", type=int, default=2, help="turns each system takes; its fastest counts")
    args = parser.parse_args()
    wav, reference = recording(args.minutes, args.seed)
    ct2, converted = whisper_base()
    load = os.getloadavg()[0]
    print(
        f"{args.minutes:g} min of read English ({len(reference.split())} words), real whisper-base, greedy; "
        f"{args.threads} threads, {os.cpu_count()} CPUs, load average {load:.1f} at the start; "
        f"fastest of {args.rounds}",
        flush=True,
    )
    results: dict[str, dict] = {}
    for _ in range(args.rounds):
        for system in args.systems.split(","):
            if system.startswith("hush-"):
                mode, _, words = system.removeprefix("hush-").partition("+")
                out = hush(converted, wav, mode, bool(words), args.threads)
            else:
                out = faster_whisper(ct2, wav, system.endswith("-batched"), args.threads)
            print(f"  {system}: {out['seconds']:.1f} s", file=sys.stderr, flush=True)
            best = results.setdefault(system, out)
            best["seconds"] = min(best["seconds"], out["seconds"])
            best["peak_kb"] = max(best["peak_kb"], out["peak_kb"])
    reference_time = results.get("faster-whisper-batched", {}).get("seconds")
    rows = []
    for system, out in results.items():
        ratio = f"{out['seconds'] / reference_time:.2f}" if reference_time else "-"
        rows.append(
            (
                system,
                f"{out['seconds']:.1f}",
                ratio,
                f"{100 * word_error_rate(reference, out['text']):.1f} %",
                f"{out['peak_kb'] / 1024:.0f}",
            )
        )
        (CACHE / f"long-form-{system}.txt").write_text(out["text"] + "\n")
    print(table(rows, ("system", "seconds", "time / faster-whisper batched", "WER", "peak RSS MB")))
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; transcripts in {CACHE}/long-form-*.txt")


if __name__ == "__main__":
    main()
