"""Speed of Hush's engine against the transformers default and faster-whisper, side by side.

    python benchmarks/speed.py [--threads N] [--repeats N] [--skip-faster-whisper] [--long-minutes 2]
    python benchmarks/speed.py --threads 1 --long-minutes 10      # the full run

Two tables. The first: random weights of the exact whisper-small architecture; every
system decodes exactly 100 tokens for a 30 s input (end-of-text suppressed), so the work
is the same. The second: real whisper-base (``scripts/fetch_weights.py``), Hush int8
against faster-whisper int8 on the same original file, decoding alike
(``real_whisper.py``: greedy, without word timing) on espeak-ng speech: a dictation of
about 5 s, 30 s and ``--long-minutes`` of read sentences with pauses, the long one through
each system's batched path (Hush's default) and through OpenAI's sequential algorithm.
The two systems take turns (A B A B), so a busy machine slows both alike; medians and
ratios come from this one run. faster-whisper comes from the optional ``bench`` extra
(``pip install -e .[bench]``); for the first table its checkpoint is converted from the
same random weights with CTranslate2's converter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import real_whisper
from common import SUPPRESSED, median_seconds, table, whisper_small, with_fixed_tokens

TOKENS = 100
SECONDS = 30


def audio(seconds: float, seed: int = 0) -> np.ndarray:
    """Speech-like noise: the model's compute does not depend on what is said."""
    return (np.random.default_rng(seed).standard_normal(int(seconds * 16_000)) * 0.1).astype(np.float32)


def transformers_default(folder, samples, repeats):
    """What a newcomer writes: the ASR pipeline, float32, transformers' defaults."""
    from transformers import pipeline

    asr = pipeline("automatic-speech-recognition", model=str(folder), device="cpu")
    steps = decoder_steps(asr.model)
    run = lambda: steps.clear() or asr(samples.copy(), generate_kwargs={"language": "en"})  # noqa: E731
    seconds, _ = median_seconds(run, repeats)
    return seconds, str(len(steps))


def decoder_steps(model) -> list[int]:
    """A list that gains one entry per decoder forward pass of ``model``: one per new token
    (the first pass reads the prompt and yields the first token)."""
    steps: list[int] = []
    model.model.decoder.register_forward_hook(lambda *_: steps.append(1))
    return steps


def hush(folder, samples, repeats, precision):
    from backend.engine.engine import Engine, Options

    engine = Engine(str(folder), device="cpu", precision=precision)
    engine.start()
    status = engine.wait_until_loaded()
    assert status.state == "ready", status.detail
    steps = decoder_steps(engine._ready()[0])
    seconds, _ = median_seconds(
        lambda: steps.clear() or engine.transcribe(samples, Options(language="en", temperature=0)), repeats
    )
    engine.close()
    return seconds, str(len(steps))  # the first step reads the prompt


def faster_whisper(folder, samples, repeats, compute_type, threads):
    import ctranslate2.converters
    from faster_whisper import WhisperModel

    converted = folder.parent / f"{folder.name}-ct2-{compute_type}"
    if not (converted / "model.bin").exists():
        converter = ctranslate2.converters.TransformersConverter(str(folder), copy_files=["tokenizer.json"])
        converter.convert(str(converted), quantization=compute_type, force=True)
    model = WhisperModel(str(converted), device="cpu", compute_type=compute_type, cpu_threads=threads)

    def run():
        segments, _ = model.transcribe(
            samples,
            language="en",
            beam_size=1,
            temperature=0.0,
            without_timestamps=True,
            suppress_tokens=SUPPRESSED,
            suppress_blank=False,
            # CTranslate2 decodes max_length / 2 tokens for this prompt (measured: 200 → 101);
            # the tokens column shows the count it really decoded.
            max_new_tokens=2 * TOKENS - 2,
            condition_on_previous_text=False,
            compression_ratio_threshold=None,
            log_prob_threshold=None,
            no_speech_threshold=None,
            vad_filter=False,
        )
        return sum(len(s.tokens) for s in segments)

    seconds, tokens = median_seconds(run, repeats)
    return seconds, str(tokens)


def real_weights(threads: int, repeats: int, minutes: float) -> str:
    """Hush int8 against faster-whisper int8 on real whisper-base: a table of median seconds."""
    rate = real_whisper.SAMPLE_RATE
    ct2, converted = real_whisper.whisper_base()
    recording, _ = real_whisper.recording(minutes)
    dictation = min((audio for audio, _, _ in real_whisper.sentence_clips(40)), key=lambda a: abs(len(a) - 5 * rate))
    hush = {mode: real_whisper.Hush(converted, "int8", mode) for mode in ("batched", "sequential")}
    faster = {mode: real_whisper.FasterWhisper(ct2, "int8", threads, mode == "batched") for mode in hush}
    runs = [
        (f"{len(dictation) / rate:.1f} s dictation", "one window", dictation, repeats),
        ("30 s", "one window", recording[: 30 * rate], repeats),
        (f"{minutes:g} min", "batched", recording, 1),
        (f"{minutes:g} min", "sequential", recording, 1),
    ]
    rows = []
    for label, mode, audio, count in runs:
        path = "sequential" if mode == "one window" else mode
        systems = (hush[path], faster[path])
        if count > 1:
            for system in systems:
                system.transcribe(audio)  # warm-up
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(count):
            for system, taken in zip(systems, times, strict=True):
                real_whisper.settle()
                started = time.perf_counter()
                system.transcribe(audio)
                taken.append(time.perf_counter() - started)
        hush_s, faster_s = (statistics.median(t) for t in times)
        rows.append((label, mode, f"{hush_s:.2f}", f"{faster_s:.2f}", f"{hush_s / faster_s:.2f}"))
        print(f"  {label} ({mode}): hush {hush_s:.2f} s, faster-whisper {faster_s:.2f} s", file=sys.stderr, flush=True)
    for system in [*hush.values(), *faster.values()]:
        system.close()
    header = ("audio", "long-form path", "hush int8 s", "faster-whisper int8 s", "hush / faster-whisper")
    return table(rows, header)


def random_weights(threads: int, repeats: int, skip_faster_whisper: bool) -> None:
    """The whisper-small-shaped table: every system decodes exactly ``TOKENS`` tokens."""
    folder = with_fixed_tokens(whisper_small(), TOKENS)
    samples = audio(SECONDS)
    print(
        f"whisper-small architecture, random weights; {SECONDS} s input, {TOKENS} new tokens; "
        f"{threads} threads, {os.cpu_count()} CPUs; median of {repeats}",
        flush=True,
    )

    results: dict[str, tuple[float, str]] = {}
    runs = [
        ("transformers pipeline fp32 (default)", lambda: transformers_default(folder, samples, repeats)),
        ("hush float32", lambda: hush(folder, samples, repeats, "float32")),
        ("hush bfloat16", lambda: hush(folder, samples, repeats, "bfloat16")),
        ("hush int8 (default on CPU)", lambda: hush(folder, samples, repeats, "int8")),
    ]
    if not skip_faster_whisper:
        runs += [
            ("faster-whisper int8", lambda: faster_whisper(folder, samples, repeats, "int8", threads)),
            ("faster-whisper float32", lambda: faster_whisper(folder, samples, repeats, "float32", threads)),
        ]
    for name, run in runs:
        results[name] = run()
        print(f"  {name}: {results[name][0]:.2f} s", file=sys.stderr, flush=True)

    default = results["transformers pipeline fp32 (default)"][0]
    hush_int8 = results["hush int8 (default on CPU)"][0]
    fw_int8 = results.get("faster-whisper int8", (None,))[0]
    rows = [
        (
            name,
            f"{seconds:.2f}",
            tokens,
            f"{default / seconds:.2f}x",
            f"{seconds / fw_int8:.2f}" if fw_int8 else "-",
        )
        for name, (seconds, tokens) in results.items()
    ]
    print(table(rows, ("system", "median s", "tokens", "speed-up vs default", "time / faster-whisper int8")))
    print(f"\nhush int8 is {default / hush_int8:.2f}x faster than the transformers default (target >= 3x)")
    if fw_int8:
        print(f"hush int8 takes {hush_int8 / fw_int8:.2f}x faster-whisper int8's time (target <= 1.0x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for every system (default: torch's)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-faster-whisper", action="store_true")
    parser.add_argument("--long-minutes", type=float, default=2, help="the long recording of the real-weights table")
    parser.add_argument("--tables", default="random,real", help="random (whisper-small shape), real (whisper-base)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    tables = args.tables.split(",")
    if "random" in tables:
        random_weights(threads, args.repeats, args.skip_faster_whisper)
    if "real" in tables and not args.skip_faster_whisper:
        print(
            f"\nreal whisper-base, greedy, without word timing; {threads} threads, {os.cpu_count()} CPUs; "
            f"median of {args.repeats} (the long recording: one run); {real_whisper.load_average()}",
            flush=True,
        )
        print(real_weights(threads, args.repeats, args.long_minutes))
        print(f"{real_whisper.load_average()} at the end")


if __name__ == "__main__":
    main()
