"""Shared pieces of the benchmarks: a whisper-small-shaped checkpoint and timing helpers.

Real weights cannot be downloaded here, so the benchmarks use random weights of the
exact whisper-small architecture (its published config, vocabulary and special-token
ids). For a fixed number of decoded tokens the compute is the same as the real model's.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]  # backend, tests.support and scripts, from any working directory

from tests.support import tiny_whisper  # noqa: E402

CACHE = Path("/tmp/hush-benchmarks")
EOT = 50257  # whisper-small's <|endoftext|>
TIMESTAMPS = list(range(50364, 51865))  # <|0.00|> … <|30.00|>
#: What every system is kept from emitting, so each decodes the full token count as text.
SUPPRESSED = [EOT, *TIMESTAMPS]
#: whisper-small's cross-attention heads that follow the audio (its published generation config):
#: with them the word-timing pass runs, as it does on the real checkpoint.
WHISPER_SMALL_ALIGNMENT_HEADS = [[5, 3], [5, 9], [8, 0], [8, 4], [8, 7], [8, 8], [9, 0], [9, 7], [9, 9], [10, 5]]


def whisper_small(folder: Path = CACHE / "whisper-small-random") -> Path:
    """Random-weight whisper-small, built once and reused."""
    if not (folder / "model.safetensors").exists():
        print(f"building random whisper-small weights in {folder} …", file=sys.stderr)
        tiny_whisper.build_checkpoint(
            folder,
            visible_text=False,
            text_vocab_size=tiny_whisper.WHISPER_SMALL_TEXT_VOCAB,
            **tiny_whisper.WHISPER_SMALL,
        )
    return folder


def with_fixed_tokens(source: Path, tokens: int, alignment_heads: list[list[int]] | None = None) -> Path:
    """A view of ``source`` whose generation config decodes exactly ``tokens`` tokens per
    window (end-of-text and timestamps suppressed), so every system does the same work;
    with ``alignment_heads``, words are placed in time too (none without)."""
    folder = source.parent / f"{source.name}-{tokens}-tokens{'-words' if alignment_heads else ''}"
    folder.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        target = folder / item.name
        if item.name != "generation_config.json" and not target.exists():
            target.symlink_to(item)
    config = json.loads((source / "generation_config.json").read_text())
    config.update(min_new_tokens=tokens, max_new_tokens=tokens, suppress_tokens=SUPPRESSED)
    if alignment_heads:
        config["alignment_heads"] = alignment_heads
    (folder / "generation_config.json").write_text(json.dumps(config, indent=2))
    return folder


def median_seconds(run: Callable[[], object], repeats: int, warmup: int = 1) -> tuple[float, object]:
    """Median wall time of ``run`` over ``repeats`` calls after ``warmup`` untimed ones."""
    result = None
    for _ in range(warmup):
        result = run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])


def clear_cache() -> None:
    shutil.rmtree(CACHE, ignore_errors=True)
