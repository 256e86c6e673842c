"""The remote engine's cost and its fan-out: ten minutes of speech in process, via one Hush server, via two.

    python benchmarks/remote.py [--minutes 10] [--rounds 3]

Real whisper-base (int8, Hush's default on the CPU) and read English with pauses
(``tests/support/english_speech.py``), default options (words on). Three ways, all started
and warmed up first, then timed one after another in each of ``--rounds`` rounds, so that other
work on a shared machine weighs on all three alike; each round's ratio to in process is quoted:

- *in process*: Hush's ``Engine`` on the decoded samples, in this process;
- *one server*: ``RemoteEngine`` here (Silero VAD cuts the audio into chunks of at most 140 s)
  sending the chunks one at a time over loopback to ``python -m backend`` with the same model:
  the cost of the remote path (VAD here, WAV encoding, HTTP, the server's history and its own
  VAD, batches cut at chunk edges). Target: at most 10 % over in process;
- *two servers*: two more ``python -m backend`` processes, the chunks shared between them.

On a machine with two cores two servers cannot be faster than one (each already uses every
free core): the row shows the mechanism (both servers used, the transcript the same), not a
speed-up. What it gives on N machines follows from the chunk count: C chunks on N servers take
about ceil(C / N) chunk times instead of C.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from common import table
from long_form import recording, whisper_base
from wer import Server

from backend.audio import decode
from backend.engine.remote import RemoteEngine
from backend.engine.servers import EngineChoice
from backend.engine.servers import Server as RemoteServer
from backend.transcript import Options
from tests.support.word_error import wer


def servers(stack: ExitStack, model: Path, count: int) -> list[RemoteServer]:
    """``count`` Hush servers on ``model``, loaded, as the remote engine addresses them."""
    found = []
    for _ in range(count):
        data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hush-remote-bench-")))
        server = Server(model, data, threads=None)
        stack.callback(server.process.terminate)
        with server.client() as client:
            server.wait_until_ready(client)
        found.append(RemoteServer(server.url + "/v1", key=server.token).checked())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    _, converted = whisper_base()
    wav, text = recording(args.minutes, args.seed)
    audio = decode(wav)
    options = Options(language="en")
    rows, results = [], {}

    from backend.engine.engine import Engine

    with ExitStack() as stack:
        engine = Engine(str(converted), device="cpu")
        engine.start()
        assert engine.wait_until_loaded().state == "ready", engine.status.detail
        stack.callback(engine.close)
        paths = {"in process": engine}
        for count in (1, 2):
            remote = RemoteEngine(EngineChoice("servers", tuple(servers(stack, converted, count))))
            stack.callback(remote.close)
            paths[f"{count} server{'s' * (count > 1)}"] = remote
        for path in paths.values():
            path.transcribe(audio[: 16_000 * 30], options)  # warm-up (each server's first request)
        times: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, path in paths.items():
                started = time.perf_counter()
                results[name] = path.transcribe(audio, options)
                times[name].append(time.perf_counter() - started)

    for name, transcript in results.items():
        ratios = [t / base for t, base in zip(times[name], times["in process"], strict=True)]
        chunks = int(transcript.timings.get("chunks", 1))
        rows.append((
            name, f"{statistics.median(times[name]):.1f}", f"{min(times[name]):.1f}-{max(times[name]):.1f}",
            f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})",
            str(chunks) if name != "in process" else "-", f"{wer([text], [transcript.text])[0]:.3f}",
        ))  # fmt: skip
    print(f"{args.minutes:g} min of read English, real whisper-base int8, {args.rounds} rounds (seconds)")
    print(table(rows, ("path", "median", "range", "vs in process, per round", "chunks", "WER")))
    chunks = int(results["1 server"].timings["chunks"])
    for machines in (2, 4, 8):
        print(f"on {machines} machines as fast as this one: about {math.ceil(chunks / machines)}/{chunks} "
              f"of the one-server time ({chunks} chunks)")  # fmt: skip


if __name__ == "__main__":
    main()
