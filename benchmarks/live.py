"""Live transcription measured against the full-accuracy pass, in one run.

    python benchmarks/live.py [--minutes 1.5] [--seed 11] [--model whisper-base] [--skip-small]
    python benchmarks/live.py --replay 0.5     # the policy alone, in virtual time

Plays espeak-ng sentences (several voices, speeds and pauses: ``tests/support/english_speech.py``)
in real time into ``/api/live`` of a Hush server on real weights (``scripts/fetch_weights.py``),
100 ms packets as the page's AudioWorklet sends them (from a process of its own, as the
browser's), then transcribes the same audio in one pass as Stop does. Prints:

- confirmed lag: from the end of each spoken word (its time in the final pass's word
  timings) to the moment it is confirmed on the page (median, p90);
- tentative lag: to the moment it first shows at all (as tentative or confirmed);
- text updates per second of speech, and CPU seconds per audio second (the server's process);
- word error rate of the live text and of the final pass against what was said;
- the live passes: how many, their median time, and the share of a pass's tokens its draft
  (the previous pass's text, ``BatchedWhisper.greedy``) gave;
- whisper-small's architecture (random weights, compute only): seconds for one live pass
  over a 10 s buffer decoding 30 tokens, without a draft (the first pass after a cut) and with
  that share of its tokens drafted.
No recorded human speech can be downloaded here; espeak-ng is the only voice.

On a shared machine the lag follows the machine's speed of the hour more than the policy
(``streaming.py``). ``--replay SECONDS`` runs the same session without a server in virtual
time: the audio arrives as the clock moves, every model pass (computed for real) moves the
clock by SECONDS whatever it took, so two policies compare on the same terms from run to run.
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import json
import multiprocessing
import os
import resource
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import torch
from common import whisper_small, with_fixed_tokens

from backend.audio import pcm16, wav_bytes
from scripts import fetch_weights
from tests.support import english_speech
from tests.support.word_error import normalise, wer

SAMPLE_RATE = 16_000
PACKET_SECONDS = 0.1


def converted(name: str) -> Path:
    weights = next(w for w in fetch_weights.MODELS if w.name == name)
    folder = fetch_weights.weights_dir() / name
    if not fetch_weights.is_ready(folder, weights):
        raise SystemExit(f"{folder} is missing: run python scripts/fetch_weights.py")
    os.environ.setdefault("HUSH_CACHE_DIR", str(Path(tempfile.gettempdir()) / "hush-benchmarks" / "hush-cache"))
    from backend.checkpoints import locate

    return locate.locate(str(folder))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stream_live(url: str, token: str, samples: np.ndarray) -> tuple[list[tuple[float, str, str]], float]:
    """Play ``samples`` in real time from a process of its own, as the page does from the browser's
    (a client in the server's process took turns with it for Python's lock: every pass ran slower);
    every (seconds since the start, confirmed, tentative) received, and the CPU seconds the server's
    process spent meanwhile."""
    context = multiprocessing.get_context("spawn")
    results, sender = context.Pipe(duplex=False)
    player = context.Process(target=play, args=(url, token, samples, sender), daemon=True)
    cpu = cpu_seconds()
    player.start()
    if not results.poll(len(samples) / SAMPLE_RATE + 180):
        player.kill()
        raise SystemExit("the live session did not finish within 3 minutes of the audio's end")
    received = results.recv()
    cpu = cpu_seconds() - cpu
    player.join(30)
    return received, cpu


def play(url: str, token: str, samples: np.ndarray, results: Connection) -> None:
    """The page's part: 100 ms packets of 16-bit PCM in real time, then stop; sends back every
    (seconds since the start, confirmed, tentative) received."""
    from websockets.sync.client import connect

    received: list[tuple[float, str, str]] = []
    socket_url = url.replace("http://", "ws://") + f"api/live?language=en&token={token}"
    with connect(socket_url, open_timeout=30, max_size=None) as socket:
        started = time.monotonic()

        def read() -> None:
            for text in socket:
                message = json.loads(text)
                if message["type"] in ("update", "done"):
                    received.append((time.monotonic() - started, message["confirmed"], message["tentative"]))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        step = int(PACKET_SECONDS * SAMPLE_RATE)
        for n, first in enumerate(range(0, len(samples), step)):
            pcm = pcm16(samples[first : first + step]).tobytes()
            time.sleep(max(0.0, started + n * PACKET_SECONDS - time.monotonic()))
            socket.send(pcm)
        socket.send(json.dumps({"type": "stop"}))
        reader.join(120)
    results.send(received)


class Passes:
    """Every live pass's seconds, and how many of its tokens its draft (the previous pass's text)
    gave: the engine's one-window path watched from outside while the session runs in this process."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.tokens: list[tuple[int, int]] = []  # (taken from the draft, decoded) per drafted pass

    def __enter__(self) -> Passes:
        from backend.engine.decoding import BatchedWhisper

        self.originals = BatchedWhisper.run_window, BatchedWhisper.greedy
        run_window, greedy = self.originals

        def timed(model, *args, **kwargs):
            transcript = run_window(model, *args, **kwargs)
            self.seconds.append(transcript.timings["total"])
            return transcript

        def counted(model, hidden, prefix, temperature, steps, most=None, draft=None):
            decodings = greedy(model, hidden, prefix, temperature, steps, most, draft)
            if draft:
                tokens = decodings[0].tokens
                same = next((i for i, pair in enumerate(zip(tokens, draft)) if pair[0] != pair[1]), None)
                self.tokens.append((min(len(tokens), len(draft)) if same is None else same, len(tokens)))
            return decodings

        BatchedWhisper.run_window, BatchedWhisper.greedy = timed, counted
        return self

    def __exit__(self, *_: object) -> None:
        from backend.engine.decoding import BatchedWhisper

        BatchedWhisper.run_window, BatchedWhisper.greedy = self.originals

    @property
    def drafted_share(self) -> float:
        """The share of drafted passes' tokens their draft gave."""
        return sum(t for t, _ in self.tokens) / max(1, sum(n for _, n in self.tokens))


def replay(
    folder: Path, samples: np.ndarray, pass_seconds: float, passes: Passes
) -> tuple[list[tuple[float, str, str]], dict]:
    """The live session run in virtual time (a pass costs ``pass_seconds``, a pass skipped in
    silence 10 ms), and the final pass as the server's upload would give it (text and segments)."""
    import asyncio
    from types import SimpleNamespace

    from backend.engine.engine import Engine
    from backend.engine.streaming import live_session
    from backend.transcript import Options

    engine = Engine(str(folder), device="cpu")
    engine.start()
    engine.wait_until_loaded(600)

    async def run() -> list[tuple[float, str, str]]:
        models = SimpleNamespace(engine=lambda: engine)  # what the live socket asks the model manager for
        session = live_session(models, "en", "transcribe")
        received, clock, fed, packet = [], 0.0, 0, int(PACKET_SECONDS * SAMPLE_RATE)
        while fed < len(samples):
            arrived = min(len(samples), int(clock * SAMPLE_RATE) // packet * packet)
            if arrived > fed:
                session.feed(samples[fed:arrived])
                fed = arrived
            if not session.due():
                clock += PACKET_SECONDS
                continue
            update = await session.step()
            clock += pass_seconds if update.computed else 0.01
            received.append((clock, update.confirmed, update.tentative))
        update = await session.step(final=True)
        received.append((clock + pass_seconds, update.confirmed, update.tentative))
        return received

    with passes:
        received = asyncio.run(run())
    transcript = engine.transcribe(samples, Options(language="en"))
    final = {"text": transcript.text, "segments": [segment.to_dict() for segment in transcript.segments]}
    engine.close(timeout=30)
    return received, final


def first_seen(received: list[tuple[float, str, str]], final_words: list[str], tentative: bool) -> list[float | None]:
    """When each of the live text's final words was first shown in its place (confirmed only, or either)."""
    seen: list[float | None] = [None] * len(final_words)
    for at, confirmed, tail in received:
        shown = normalise(confirmed + (" " + tail if tentative else ""))
        for i, word in enumerate(shown[: len(final_words)]):
            if seen[i] is None and word == final_words[i]:
                seen[i] = at
    return seen


def lags(seen: list[float | None], live_words: list[str], reference: list[tuple[str, float]]) -> list[float]:
    """Seconds from each word's end in the audio (the final pass's timing) to its appearance live."""
    matcher = difflib.SequenceMatcher(a=live_words, b=[w for w, _ in reference], autojunk=False)
    found = []
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            at = seen[block.a + k]
            if at is not None:
                found.append(at - reference[block.b + k][1])
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def small_update_seconds(share: float, repeats: int = 3, tokens: int = 30) -> tuple[float, float, int]:
    """One live pass of whisper-small's architecture (random weights, int8) over 10 s decoding
    ``tokens`` tokens: seconds without a draft (the first pass after a cut), and with the first
    ``share`` of its tokens drafted, and how many that is. Random weights decode tokens no text
    stands for, so the draft is handed to the decoder as those tokens instead of as the segments
    it is made from. And their logits are near-ties everywhere, where the one call over a draft
    and a step on its own can differ in their last bits (int8 activations scaled over several rows
    or one): the draft is decoded again until the call over it picks its tokens itself."""
    from backend.engine.decoding import Steps
    from backend.engine.engine import Engine
    from backend.transcript import Options, Priority, Request, Segment

    folder = with_fixed_tokens(whisper_small(), tokens)
    engine = Engine(str(folder), device="cpu")
    engine.start()
    assert engine.wait_until_loaded(600).state == "ready", engine.status.detail
    model = engine._batched
    buffer = (np.random.default_rng(3).standard_normal(SAMPLE_RATE * 10) * 0.1).astype(np.float32)
    prompt = "the words confirmed so far " * 4
    options = Options(language="en", temperature=0.0, prompt=prompt, words=False, short_context=True)
    given = round(share * tokens)

    def drafted() -> list[int]:
        """Its own first ``given`` tokens, as the one call over them picks them."""
        with torch.inference_mode():
            _, hidden = model.encode(buffer, short=True)
            prefix = model.prefix(options, "en")
            (own,) = model.greedy(hidden, prefix, 0.0, Steps(), tokens)
            draft = own.tokens
            for _ in range(given):
                (again,) = model.greedy(hidden, prefix, 0.0, Steps(), tokens, draft[:given])
                agreed = next((i for i, pair in enumerate(zip(again.tokens, draft)) if pair[0] != pair[1]), given)
                if agreed >= given:
                    break
                draft = again.tokens
        return draft[:given]

    draft = engine._worker.submit(drafted).result()  # on the inference thread, as all torch work (``Engine.speech``)
    model.draft = lambda segments: draft if segments else []
    heard = (Segment(0.0, 10.0, "the previous pass's text"),)

    def median_pass(draft: tuple[Segment, ...]) -> float:
        times = []
        for n in range(repeats + 1):
            started = time.perf_counter()
            engine.submit(Request(audio=buffer, options=replace(options, draft=draft), priority=Priority.LIVE)).result()
            if n:  # the first one warms up
                times.append(time.perf_counter() - started)
        return statistics.median(times)

    plain, drafted = median_pass(()), median_pass(heard)
    engine.close(timeout=30)
    return plain, drafted, given


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=1.5, help="length of the spoken audio")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--model", default="whisper-base", choices=["whisper-base", "whisper-tiny.en"])
    parser.add_argument("--skip-small", action="store_true", help="skip whisper-small's update time")
    parser.add_argument("--replay", type=float, metavar="SECONDS", help="virtual time, a pass costing SECONDS")
    args = parser.parse_args()

    samples, said = english_speech.recording(args.minutes, args.seed)
    folder = converted(args.model)
    passes = Passes()
    if args.replay:
        cpu = cpu_seconds()
        received, final = replay(folder, samples, args.replay, passes)
        cpu = cpu_seconds() - cpu
    else:
        received, final, cpu = served(folder, samples, passes)
    report(args, samples, said, received, final, cpu, passes)


def served(folder: Path, samples: np.ndarray, passes: Passes) -> tuple[list[tuple[float, str, str]], dict, float]:
    """The live text as a Hush server sends it while ``samples`` play in real time, the final pass as
    its upload gives it, and the CPU seconds the live session took."""
    import httpx

    from backend.settings import Settings
    from backend.web.server import Server

    with tempfile.TemporaryDirectory() as data:
        server = Server(Settings(model=str(folder), data_dir=data, port=0))
        server.start()
        server.app.state.models.wait_until_loaded(600)
        with passes:
            received, cpu = stream_live(server.base_url, server.token, samples)
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=900) as client:
            final = client.post(
                "api/transcriptions", files={"file": ("live.wav", wav_bytes(samples))}, data={"language": "en"}
            ).json()
        server.stop()
    return received, final, cpu


def report(
    args: argparse.Namespace,
    samples: np.ndarray,
    said: str,
    received: list[tuple[float, str, str]],
    final: dict,
    cpu: float,
    passes: Passes,
) -> None:
    """Print the figures of one run."""
    timed = [w for s in final["segments"] for w in s.get("words", [])]
    reference = [(token, w["end"]) for w in timed for token in normalise(w["word"])]
    live_text = received[-1][1] if received else ""
    live_words = normalise(live_text)
    confirmed = lags(first_seen(received, live_words, tentative=False), live_words, reference)
    tentative = lags(first_seen(received, live_words, tentative=True), live_words, reference)
    speech_seconds = sum(len(w) for w in said.split()) / 15  # ~15 characters a second of espeak speech
    changes = sum(1 for a, b in itertools.pairwise(received) if (a[1], a[2]) != (b[1], b[2]))
    audio_seconds = len(samples) / SAMPLE_RATE
    live_wer, final_wer = wer([said], [live_text])[0], wer([said], [final["text"]])[0]

    timing = f"virtual time, {args.replay} s a pass" if args.replay else "real time"
    print(f"{args.model}, {audio_seconds:.0f} s of espeak-ng speech in {timing}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"confirmed lag     median {statistics.median(confirmed):.2f} s   p90 {percentile(confirmed, 0.9):.2f} s"
          f"   ({len(confirmed)} words)")  # fmt: skip
    print(f"tentative lag     median {statistics.median(tentative):.2f} s   p90 {percentile(tentative, 0.9):.2f} s")
    print(f"updates           {changes / speech_seconds:.2f} text changes per second of speech")
    print(f"CPU               {cpu / audio_seconds:.2f} s per audio second (live session, whole process)")
    print(f"WER               live {100 * live_wer:.1f} %   final pass {100 * final_wer:.1f} %   "
          f"difference {100 * (live_wer - final_wer):+.1f} points")  # fmt: skip
    share = passes.drafted_share
    print(f"passes            {len(passes.seconds)}, median {statistics.median(passes.seconds):.2f} s; "
          f"{100 * share:.0f} % of a drafted pass's tokens came from its draft")  # fmt: skip
    if not args.skip_small:
        with multiprocessing.get_context("spawn").Pool(1) as pool:  # whisper-small alone in its process, as in the app
            plain, drafted, given = pool.apply(small_update_seconds, (share,))
        print(f"whisper-small     {plain:.2f} s per live pass over a 10 s buffer (30 tokens, int8); "
              f"{drafted:.2f} s with {given} of them drafted")  # fmt: skip


if __name__ == "__main__":
    main()
