"""Hush on Ray Serve: ten minutes on one replica against two, and the Ray path's cost for a dictation.

    python benchmarks/cluster.py [--minutes 10] [--rounds 3]

Real whisper-base (int8, Hush's default on the CPU), read English with pauses
(``tests/support/english_speech.py``), default options (words on). Ray runs on this machine
(2 CPUs); every replica has one CPU, so one torch thread. In each of ``--rounds`` rounds:

- *the long file on 1 replica, then on 2*: the application is deployed with that many replicas
  (``hush-serve``'s own ``deploy``), warmed up, and the file goes to the ingress over HTTP
  (``POST /api/transcriptions``), which cuts it at pauses into chunks of at most 140 s and sends
  them to the replicas. The ratio 2/1 shows the split and dispatch overhead (ideal 0.5);
- *a 5 s dictation*: the same clip through the cluster (ingress, one replica of one thread) and
  through ``python -m backend`` held to one thread (``OMP_NUM_THREADS=1``), five times each,
  the median kept: the Ray path's overhead for a short request.

Each round's figures are printed and the median and range over the rounds quoted.
"""

from __future__ import annotations

import argparse
import logging
import math
import shutil
import statistics
import tempfile
import time
from contextlib import closing
from pathlib import Path

import httpx
import ray
from common import ROOT, table
from long_form import recording, whisper_base
from ray import serve
from wer import Server

from backend.cluster.deployments import Scale, application
from backend.cluster.serve import deploy
from backend.settings import Settings, read_settings
from tests.support.peers import free_port
from tests.support.word_error import wer

TOKEN = "benchmark-token-0123456789abcdef"
DICTATION = "Please remind me to call the garage tomorrow morning about the brakes, and book a table for four at eight."


def timed_post(client: httpx.Client, path: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    with path.open("rb") as file:
        response = client.post("api/transcriptions", files={"file": (path.name, file, "audio/wav")})
    response.raise_for_status()
    return time.perf_counter() - started, response.json()


def cluster_with(replicas: int, settings: Settings) -> httpx.Client:
    """The application deployed with ``replicas`` engine replicas of one CPU each, every one ready."""
    url = deploy(application(settings, Scale(replicas=replicas)), settings)
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=3600)
    deadline = time.monotonic() + 300
    while sum(w["state"] == "ready" for w in client.get("api/health").json()["workers"]) < replicas:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{replicas} replicas did not load in time")
        time.sleep(0.5)
    return client


def dictation_clip(folder: Path) -> Path:
    """About 5 s of speech (espeak-ng), cached."""
    import subprocess

    path = folder / "dictation-5s.wav"
    if not path.exists():
        subprocess.run(["espeak-ng", "-s", "200", "-w", str(path), DICTATION], check=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dictations", type=int, default=5, help="5 s requests per path and round (median kept)")
    args = parser.parse_args()
    _, converted = whisper_base()
    wav, text = recording(args.minutes, args.seed)
    clip = dictation_clip(wav.parent)
    work = Path(tempfile.mkdtemp(prefix="hush-cluster-bench-"))
    settings = read_settings(token=TOKEN, model=str(converted), data_dir=work / "cluster", port=free_port())
    long_times: dict[int, list[float]] = {1: [], 2: []}
    dictation: dict[str, list[float]] = {"cluster": [], "python -m backend": []}
    results: dict[int, dict] = {}

    single = Server(converted, Path(tempfile.mkdtemp(prefix="hush-single-", dir=work)), threads=1)
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=str(work / "ray"), logging_level=logging.WARNING,
             log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})  # fmt: skip
    try:
        with single.client() as plain:
            single.wait_until_ready(plain)
            timed_post(plain, clip)  # warm-up
            for round_number in range(1, args.rounds + 1):
                for replicas in (1, 2):
                    with closing(cluster_with(replicas, settings)) as client:
                        timed_post(client, clip)  # every replica's first request
                        timed_post(client, clip)
                        seconds, results[replicas] = timed_post(client, wav)
                        long_times[replicas].append(seconds)
                        if replicas == 1:
                            dictation["cluster"].append(
                                statistics.median(timed_post(client, clip)[0] for _ in range(args.dictations))
                            )
                    print(f"round {round_number}: {replicas} replica(s) {seconds:.1f} s", flush=True)
                dictation["python -m backend"].append(
                    statistics.median(timed_post(plain, clip)[0] for _ in range(args.dictations))
                )
    finally:
        serve.shutdown()
        ray.shutdown()
        single.stop()

    ratios = [two / one for one, two in zip(long_times[1], long_times[2], strict=True)]
    rows = []
    for replicas, times in long_times.items():
        body = results[replicas]
        rows.append((
            f"{args.minutes:g} min on {replicas} replica{'s' * (replicas > 1)}", f"{statistics.median(times):.1f}",
            f"{min(times):.1f}-{max(times):.1f}", str(int(body["timings"]["chunks"])),
            f"{wer([text], [body['text']])[0]:.3f}",
        ))  # fmt: skip
    print(f"real whisper-base int8, one CPU (one torch thread) per replica, {args.rounds} rounds (seconds)")
    print(table(rows, ("", "median", "range", "chunks", "WER")))
    print(f"2 replicas / 1 replica, per round: {', '.join(f'{r:.2f}' for r in ratios)} "
          f"(median {statistics.median(ratios):.2f}; ideal 0.5)")  # fmt: skip
    overheads = [c - p for c, p in zip(dictation["cluster"], dictation["python -m backend"], strict=True)]
    rows = [(name, f"{statistics.median(t):.3f}", f"{min(t):.3f}-{max(t):.3f}") for name, t in dictation.items()]
    print(f"a {clip.name} dictation, one thread, median of {args.dictations} per round (seconds)")
    print(table(rows, ("path", "median", "range")))
    print(f"the Ray path's overhead per round: {', '.join(f'{o * 1000:+.0f} ms' for o in overheads)}")
    chunks = int(results[1]["timings"]["chunks"])
    megabytes = args.minutes * 60 * 16_000 * 2 / 2**20
    print(f"{chunks} chunks of at most 140 s; the replicas get the audio as 16-bit: {megabytes:.0f} MB for the file")
    for machines in (2, 4, 8):
        print(f"on {machines} one-replica machines: about {math.ceil(chunks / machines)}/{chunks} of one replica's "
              "time, plus the split")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
