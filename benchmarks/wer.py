"""Word error rate of Hush on real whisper-base, next to faster-whisper on the same weights.

    python benchmarks/wer.py [--sentences 40] [--minutes 3] [--seeds 7] [--threads 1] [--long-form sequential]
    python benchmarks/wer.py --sentences 120 --minutes 10 --seeds 7,8,9,10    # the full run
    python benchmarks/wer.py --tiny [--clips 100] ...         # the 20-word test model, over HTTP

The real weights are whisper-base as ``scripts/fetch_weights.py`` fetches it (a
faster-whisper folder): faster-whisper runs the file as it is, Hush its conversion, in
int8 (its default on the CPU) and float32. Every system decodes alike (``real_whisper.py``:
greedy, timestamps, no conditioning on earlier text, no no-speech skipping). faster-whisper
runs as shipped, and also with its short windows padded with silence, as Whisper was
trained and as Hush does, instead of zeros after the log-mel step: then both see the same
features, and in float32 they write the same words (its row shows it), so what is left
between the int8 rows is the quantization. "words changed vs hush float32" counts how far
each system's transcripts are from float32's, a steadier measure of what int8 costs than
the WER itself, which on a few hundred words moves by a point when a handful flip.

Two sets, both espeak-ng reading distinct plain sentences (``tests/support/english_speech.py``):
one clip per sentence (seven voices, three speeds, cycled), and one long recording of
sentences with pauses, which goes through long-form decoding (``--long-form``:
``sequential``, OpenAI's algorithm in both; ``batched``: Hush's batched path against
faster-whisper's ``BatchedInferencePipeline``). The systems take turns clip by clip, so a
busy machine slows each alike; the seconds column is their time over the set. Both
sides are normalised by Whisper's English normaliser before jiwer counts the errors
(``real_whisper.normaliser`` says what it forgives).

``--tiny`` measures ``tests/assets/tiny-whisper-words`` instead: an evaluation set the
training never saw (its own seed; espeak-ng voices, variants the training never heard,
speeds 130-210 wpm, noise and level changes) posted as WAVs to ``python -m backend`` on
127.0.0.1, short clips and one long recording (``--tiny --help``).

Needs espeak-ng and sox (Debian packages).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import real_whisper
from common import CACHE, table

from tests.support import speech_corpus
from tests.support.word_error import wer

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_MODEL = ROOT / "tests" / "assets" / "tiny-whisper-words"


class Server:
    """``python -m backend`` in a subprocess on a free port of 127.0.0.1."""

    def __init__(self, model: Path, data_dir: Path, threads: int | None) -> None:
        env = {**os.environ, "HUSH_MODEL": str(model), "HUSH_HOST": "127.0.0.1", "HUSH_PORT": "0"}
        env["HUSH_DATA_DIR"] = str(data_dir)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)
        self.log = open(data_dir / "server.log", "w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "backend"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.url, self.token = self._read_url()

    def _read_url(self) -> tuple[str, str | None]:
        """The address ``python -m backend`` prints (``http://127.0.0.1:PORT/?token=…``)."""
        for line in self.process.stdout:
            if "listening on" in line:
                address = urlsplit(line.rsplit(" ", 1)[-1].strip())
                token = parse_qs(address.query).get("token", [None])[0]
                return f"{address.scheme}://{address.netloc}", token
        raise RuntimeError(f"the server exited before listening:\n{self.tail()}")

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=600)

    def tail(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return "".join(self.log.readlines()[-20:])

    def wait_until_ready(self, client: httpx.Client, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server died:\n{self.tail()}")
            response = client.get("/api/health")
            response.raise_for_status()
            model = response.json()["model"]
            if model["state"] == "ready":
                return model.get("detail", "")
            if model["state"] in ("error", "missing"):
                raise RuntimeError(f"the model did not load: {model.get('detail')}")
            time.sleep(0.5)
        raise TimeoutError("the model did not load in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def transcribe(client: httpx.Client, path: Path) -> dict:
    with path.open("rb") as f:
        response = client.post("/api/transcriptions", files={"file": (path.name, f, "audio/wav")})
    response.raise_for_status()
    return response.json()


def tiny_model(argv: list[str]) -> None:
    """The 20-word test model through the HTTP API, on its own vocabulary."""
    parser = argparse.ArgumentParser(prog="wer.py --tiny", description=tiny_model.__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="checkpoint folder (HUSH_MODEL)")
    parser.add_argument("--clips", type=int, default=100, help="short clips")
    parser.add_argument("--long-seconds", type=float, default=300.0, help="length of the long-form file (0: none)")
    parser.add_argument("--seed", type=int, default=4242, help="evaluation set seed (training uses 0)")
    parser.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS for the server")
    parser.add_argument("--show", type=int, default=5, help="print this many mistranscribed clips")
    args = parser.parse_args(argv)
    speech_corpus.check_tools()

    with tempfile.TemporaryDirectory(prefix="hush-wer-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        clips = []
        for i, (audio, text) in enumerate(speech_corpus.short_clips(args.clips, seed=args.seed)):
            path = folder / f"clip{i:04d}.wav"
            speech_corpus.write_wav(path, audio)
            clips.append((path, text))
        long_file = None
        if args.long_seconds > 0:
            audio, text, segments = speech_corpus.long_form(args.long_seconds, seed=args.seed + 1)
            long_file = (folder / "long.wav", text, len(segments))
            speech_corpus.write_wav(long_file[0], audio)
        print(
            f"evaluation set (seed {args.seed}) synthesized in {time.perf_counter() - started:.0f} s", file=sys.stderr
        )

        server = Server(args.model.resolve(), folder, args.threads)
        try:
            with server.client() as client:
                detail = server.wait_until_ready(client)
                print(f"server {server.url}: {detail}", file=sys.stderr)
                rows = []
                started = time.perf_counter()
                errors = words = 0
                wrong = []
                for path, text in clips:
                    hyp = transcribe(client, path)["text"]
                    _, e, n = wer([text], [hyp])
                    errors, words = errors + e, words + n
                    if e:
                        wrong.append((text, hyp))
                if clips:
                    rows.append(("short clips", len(clips), words, errors, errors / words,
                                 time.perf_counter() - started))  # fmt: skip
                if long_file is not None:
                    started = time.perf_counter()
                    path, text, utterances = long_file
                    result = transcribe(client, path)
                    rate, e, n = wer([text], [result["text"]])
                    name = f"long-form {result['duration']:.0f} s ({utterances} utterances)"
                    rows.append((name, 1, n, e, rate, time.perf_counter() - started))
        finally:
            server.stop()

    for text, hyp in wrong[: args.show]:
        print(f"  {text!r} -> {hyp!r}")
    header = ("set", "files", "words", "errors", "WER", "seconds")
    table = [header] + [(name, str(f), str(w), str(e), f"{100 * r:.2f} %", f"{s:.0f}") for name, f, w, e, r, s in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for k, row in enumerate(table):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if k == 0:
            print("  ".join("-" * w for w in widths))


def real_weights(argv: list[str]) -> None:
    """Hush and faster-whisper on real whisper-base, taking turns file by file; prints the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=40, help="clips of one sentence each (README: 120)")
    parser.add_argument("--minutes", type=float, default=3, help="length of each long recording (README: 10; 0: none)")
    parser.add_argument("--seeds", default="7", help="one long recording per seed, comma-separated (README: 7,8,9,10)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for every system")
    parser.add_argument("--long-form", choices=("sequential", "batched"), default="sequential")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, of: {', '.join(SYSTEMS)}")
    parser.add_argument("--show", type=int, default=5, help="print this many sentences where the first two differ")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    clips = real_whisper.sentence_clips(args.sentences) if args.sentences else []
    sets = {"sentences": [(audio, text) for audio, text, _ in clips]} if clips else {}
    seeds = [int(seed) for seed in args.seeds.split(",")] if args.minutes else []
    for seed in seeds:
        sets[f"long-form {args.minutes:g} min, seed {seed}"] = [real_whisper.recording(args.minutes, seed)]
    ct2, converted = real_whisper.whisper_base()
    names = args.systems.split(",")
    systems = {name: SYSTEMS[name](ct2, converted, args.threads, args.long_form) for name in names}
    print(
        f"real whisper-base, greedy; {len(clips)} sentences ({sum(len(a) for a, _, _ in clips) / 16000:.0f} s), "
        f"{len(seeds)} x {args.minutes:g} min long-form ({args.long_form}); "
        f"{args.threads} threads, {os.cpu_count()} CPUs, {real_whisper.load_average()} at the start",
        flush=True,
    )
    heard = {label: {name: [] for name in names} for label in sets}
    seconds = {label: dict.fromkeys(names, 0.0) for label in sets}
    for label, items in sets.items():
        for audio, _ in items:
            for name, system in systems.items():
                if args.threads > 1:
                    real_whisper.settle()
                started = time.perf_counter()
                heard[label][name].append(system.transcribe(audio))
                seconds[label][name] += time.perf_counter() - started
        print(f"  {label} done, {real_whisper.load_average()}", file=sys.stderr, flush=True)
    for system in systems.values():
        system.close()

    texts = {label: [text for _, text in items] for label, items in sets.items()}
    if len(seeds) > 1:
        long_sets = [label for label in sets if label != "sentences"]
        pooled = f"long-form, all {len(seeds)}"
        texts[pooled] = [text for label in long_sets for text in texts[label]]
        heard[pooled] = {name: [said for label in long_sets for said in heard[label][name]] for name in names}
        seconds[pooled] = {name: sum(seconds[label][name] for label in long_sets) for name in names}
    rows, rates = [], {}
    for label, refs in texts.items():
        for name in names:
            out = real_whisper.word_errors(refs, heard[label][name])
            rates[label, name] = 100 * out.wer
            changed = "-"
            if FLOAT32 in names and name != FLOAT32:
                changed = f"{100 * real_whisper.word_errors(heard[label][FLOAT32], heard[label][name]).wer:.2f} %"
            words = out.hits + out.substitutions + out.deletions
            counts = f"{out.substitutions}/{out.deletions}/{out.insertions}"
            rows.append(
                (label, name, str(words), counts, f"{100 * out.wer:.2f} %", changed, f"{seconds[label][name]:.0f}")
            )
    normalise = real_whisper.normaliser()
    for index, (_, text, how) in enumerate(clips):
        said = [heard["sentences"][name][index] for name in names[:2]]
        if args.show > 0 and len(said) == 2 and normalise(said[0]) != normalise(said[1]):
            print(f"  {how}: {text!r}\n    {names[0]}: {said[0]!r}\n    {names[1]}: {said[1]!r}")
            args.show -= 1
    print(table(rows, ("set", "system", "words", "sub/del/ins", "WER", "words changed vs hush float32", "seconds")))
    for label in texts:
        for other in (n for n in names if n.startswith("faster-whisper int8") and "hush int8" in names):
            print(f"{label}: hush int8 - {other} = {rates[label, 'hush int8'] - rates[label, other]:+.2f} points")
    saved = CACHE / "wer-transcripts.json"
    saved.write_text(json.dumps({"references": texts, "transcripts": heard}, indent=1))
    print(f"{real_whisper.load_average()} at the end; transcripts in {saved}")


def hush(precision: str):
    return lambda ct2, converted, threads, long_form: real_whisper.Hush(converted, precision, long_form)


def faster_whisper(compute_type: str, silence_padding: bool = False):
    def make(ct2: Path, converted: Path, threads: int, long_form: str) -> real_whisper.FasterWhisper:
        return real_whisper.FasterWhisper(ct2, compute_type, threads, long_form == "batched", silence_padding)

    return make


FLOAT32 = "hush float32"
SYSTEMS = {
    "hush int8": hush("int8"),
    "faster-whisper int8 (silence-padded)": faster_whisper("int8", silence_padding=True),
    "faster-whisper int8": faster_whisper("int8"),
    FLOAT32: hush("float32"),
    "faster-whisper float32 (silence-padded)": faster_whisper("float32", silence_padding=True),
}


def main() -> None:
    if "--tiny" in sys.argv[1:]:
        tiny_model([a for a in sys.argv[1:] if a != "--tiny"])
    else:
        real_weights(sys.argv[1:])


if __name__ == "__main__":
    main()
