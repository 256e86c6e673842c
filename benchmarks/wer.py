"""Word error rate of Hush, measured through its real HTTP API.

    python benchmarks/wer.py [--model tests/assets/tiny-whisper-words] [--clips 100] [--long-seconds 300]

Makes an evaluation set the training never saw (its own seed; espeak-ng voices,
variants the training never heard, speeds 130-210 wpm, noise and level changes): short
clips, and one long recording of many utterances with pauses, which goes through
transformers' long-form algorithm window by window.  Starts ``python -m backend`` on
127.0.0.1 with ``HUSH_MODEL`` pointing at the checkpoint, posts every file as a WAV to
``POST /api/transcriptions``, normalises both sides (lower case, no punctuation) and
prints short-clip WER, long-form WER, clip count and word count.

Needs espeak-ng and sox (Debian packages).  ``--threads`` sets the server's
``OMP_NUM_THREADS``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts")]

import speech_corpus  # noqa: E402
from word_error import wer  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="checkpoint folder (HUSH_MODEL)")
    parser.add_argument("--clips", type=int, default=100, help="short clips")
    parser.add_argument("--long-seconds", type=float, default=300.0, help="length of the long-form file (0: none)")
    parser.add_argument("--seed", type=int, default=4242, help="evaluation set seed (training uses 0)")
    parser.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS for the server")
    parser.add_argument("--show", type=int, default=5, help="print this many mistranscribed clips")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
