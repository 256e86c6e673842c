"""What word timing costs: real whisper-base transcribing espeak-ng speech with and without words.

    python benchmarks/words.py [--repeats 3] [--threads N] [--model FOLDER]

Hush's engine at its default precision (int8 on the CPU) on three recordings: a 5 s
dictation, 30 s (one window: the encoder's output is reused for the words) and 2 minutes
(four windows, each encoded again for its words unless the engine takes its batched path),
decoded greedily (temperature 0: no fallback passes to dilute the words' share). Runs with
and without words alternate, and each figure is the fastest of ``--repeats`` runs: on a
machine shared with other work that is the one least slowed by it. "words stage" is the time
the engine reports for placing the words (``timings["words"]``; "-" where a long-form path
does not tell it), and its share of the run without words.
The weights are the real ones ``scripts/fetch_weights.py`` fetches (converted by Hush on
first use), unless ``--model`` names a checkpoint folder.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from common import table

SENTENCES = [
    "Please call my sister tomorrow morning.",
    "The weather today is cold and windy.",
    "We will meet at the station at noon.",
    "Open the window and let the fresh air in.",
    "The children are playing in the garden.",
    "My grandfather repairs old clocks in his workshop.",
    "The train leaves in ten minutes.",
    "She painted the kitchen walls yellow.",
    "Fresh bread from the bakery smells wonderful early in the morning.",
    "Heavy rain flooded several streets in the city centre yesterday.",
]
LENGTHS = {"dictation": 5.0, "one window": 30.0, "two minutes": 120.0}


def speech(seconds: float, folder: Path) -> np.ndarray:
    """``seconds`` of espeak-ng sentences, each followed by 0.8 s of silence (cut to the length)."""
    from backend.audio import SAMPLE_RATE, decode

    clips = []
    for index, sentence in enumerate(SENTENCES):
        path = folder / f"sentence-{index}.wav"
        if not path.exists():
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path), sentence], check=True)
        clips += [decode(path), np.zeros(int(0.8 * SAMPLE_RATE), np.float32)]
    loop = np.concatenate(clips)
    repeated = np.tile(loop, int(np.ceil(seconds * SAMPLE_RATE / len(loop))))
    return repeated[: int(seconds * SAMPLE_RATE)]


def real_whisper_base() -> Path:
    """Real whisper-base from scripts/fetch_weights.py's folder, converted by Hush (once)."""
    from backend.checkpoints import locate
    from scripts.fetch_weights import weights_dir  # the repository's root is on the path (common.py)

    source = weights_dir() / "whisper-base"
    if not (source / "model.bin").exists():
        raise SystemExit(f"{source} is missing: run python scripts/fetch_weights.py first.")
    return locate.locate(str(source))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--model", type=Path, help="a Whisper checkpoint folder (default: real whisper-base)")
    args = parser.parse_args()

    import torch

    from backend.engine.engine import Engine
    from backend.transcript import Options

    if args.threads:
        torch.set_num_threads(args.threads)
    engine = Engine(str(args.model or real_whisper_base()), device="cpu")
    engine.start()
    status = engine.wait_until_loaded(600)
    assert status.state == "ready", status.detail
    print(f"{status.detail} {torch.get_num_threads()} threads", flush=True)

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, seconds in LENGTHS.items():
            audio = speech(seconds, Path(folder))
            engine.transcribe(audio, Options(language="en", temperature=0.0))  # warm-up
            wall: dict[bool, list[float]] = {False: [], True: []}
            stage, counted = [], 0
            for _ in range(args.repeats):
                for words in (False, True):
                    started = time.perf_counter()
                    transcript = engine.transcribe(audio, Options(language="en", temperature=0.0, words=words))
                    wall[words].append(time.perf_counter() - started)
                    if words:
                        stage.append(transcript.timings.get("words"))  # not told by every long-form path
                        counted = sum(len(s.words) for s in transcript.segments)
            without, with_words = min(wall[False]), min(wall[True])
            told = [t for t in stage if t is not None]
            rows.append(
                (
                    name,
                    f"{seconds:.0f} s",
                    f"{without:.2f} s",
                    f"{with_words:.2f} s",
                    f"{100 * (with_words - without) / without:+.1f} %",
                    f"{min(told):.2f} s ({100 * min(told) / without:.1f} %)" if told else "-",
                    str(counted),
                )
            )
            print(rows[-1], flush=True)
    engine.close()
    header = ("audio", "length", "without words", "with words", "difference", "words stage", "words placed")
    print(table(rows, header))


if __name__ == "__main__":
    main()
