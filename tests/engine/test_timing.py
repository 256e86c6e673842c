"""backend/engine/timing.py: the time warping, pauses, punctuation and word order rules without a model, and
the engine placing words with a random checkpoint that names alignment heads, at each CPU precision."""

from __future__ import annotations

import json
import shutil
import time
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers.models.whisper.generation_whisper import _dynamic_time_warping

from backend.audio import SAMPLE_RATE, decode
from backend.engine import timing as word_timing
from backend.engine.engine import Engine
from backend.engine.timing import (
    Aligner,
    Decoded,
    Pauses,
    Timing,
    dtw,
    finish,
    median_filter,
    merge_punctuation,
    settle,
)
from backend.status import ModelState
from backend.transcript import Options


def tone(seconds: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (level * np.cos(2 * np.pi * 220 * t)).astype(np.float32)  # loud from its first sample


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE), np.float32)


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (4, 11), (20, 300)])
def test_time_warping_takes_openai_whispers_path(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(5):
        cost = rng.standard_normal(shape)
        rows, columns = dtw(cost)
        expected_rows, expected_columns = _dynamic_time_warping(cost.astype(np.float32))
        assert rows.tolist() == expected_rows.tolist() and columns.tolist() == expected_columns.tolist()


def test_time_warping_a_full_window_takes_milliseconds():
    cost = np.random.default_rng(0).standard_normal((200, 1500))
    started = time.perf_counter()
    dtw(cost)
    assert time.perf_counter() - started < 0.5  # transformers' Python double loop takes seconds here


@pytest.mark.parametrize("block", [1, 7 * 50, 7 * 50 * 3 + 5, word_timing.MEDIAN_BLOCK])
def test_the_median_filter_sorted_block_by_block_gives_what_one_sort_of_every_window_gives(monkeypatch, block):
    monkeypatch.setattr(word_timing, "MEDIAN_BLOCK", block)  # whole rows, several rows, all at once
    values = torch.randn(3, 8, 50, generator=torch.Generator().manual_seed(block))
    padded = F.pad(values, (3, 3), mode="reflect")  # openai-whisper's median_filter, all windows at once
    assert torch.equal(median_filter(values, 7), padded.unfold(-1, 7, 1).sort()[0][..., 3])


def test_each_tokens_probability_is_the_softmax_over_the_text_tokens_taken_a_few_rows_at_a_time():
    generator = torch.Generator().manual_seed(0)
    projection = torch.nn.Linear(8, 40)
    aligner = Aligner.__new__(Aligner)  # only the output projection and the end-of-text token are read
    aligner.model, aligner.end_of_text = SimpleNamespace(get_output_embeddings=lambda: projection), 30
    states = torch.randn(word_timing.SOFTMAX_ROWS * 2 + 5, 8, generator=generator)
    tokens = torch.randint(0, 30, (len(states),), generator=generator).tolist()
    with torch.inference_mode():
        expected = projection(states)[:, :30].softmax(-1)[torch.arange(len(tokens)), tokens]
        assert np.array_equal(aligner.probabilities(states, tokens), expected.numpy())


def test_pauses_are_found_and_end_at_the_first_loud_sample():
    audio = np.concatenate([silence(0.5), tone(1.0), silence(0.1), tone(0.5), silence(1.2345), tone(0.7)])
    pauses = Pauses(audio)
    assert pauses.around(0.2) == (0.0, 0.5)
    assert pauses.around(1.55) is None  # 0.1 s between words is no pause
    silent_from, speech_from = pauses.around(2.5)
    assert silent_from == pytest.approx(2.1, abs=0.02) and speech_from == pytest.approx(3.3345, abs=0.001)
    assert speech_from >= 3.3345  # rounded up: a word snapped to it never starts in the silence
    assert pauses.around(3.4) is None


def test_pauses_are_judged_against_the_speech_of_the_recording():
    quiet = np.concatenate([tone(1.0, 0.003), silence(0.5) + 3e-6, tone(1.0, 0.003)])
    assert Pauses(quiet).around(1.2) is not None
    noisy_room = np.concatenate([tone(1.0), tone(0.5, 0.05), tone(1.0)])
    assert Pauses(noisy_room).around(1.2) is None


def test_pauses_keep_their_place_in_a_clip_from_later_in_the_recording():
    assert Pauses(np.concatenate([tone(0.5), silence(0.5), tone(0.5)]), offset=10.0).around(10.7) == (10.5, 11.0)


def timing(word: str, start: float, end: float, tokens: int = 1) -> Timing:
    return Timing(word, list(range(tokens)), start, end, 0.9)


def test_punctuation_joins_its_word_as_in_openai_whisper():
    timings = [timing(' "', 0, 0.1), timing("Hello", 0.1, 0.5), timing(",", 0.5, 0.6), timing(" world", 0.6, 1.0)]
    merge_punctuation(timings)
    assert [(t.word, len(t.tokens)) for t in timings if t.word] == [(' "Hello,', 3), (" world", 1)]


def test_each_segment_gets_the_words_of_its_tokens():
    segments = [Decoded(0.0, 1.0, "one two", [1, 2]), Decoded(1.0, 2.0, "three", [3, 4])]
    timings = [timing(" one", 0.1, 0.4), timing(" two", 0.4, 0.9), timing(" three", 1.1, 1.8, tokens=2)]
    dealt, last_speech = settle(timings, segments, offset=5.0, last_speech=0.0)
    assert [[t.word for t in words] for words in dealt] == [[" one", " two"], [" three"]]
    assert dealt[1][0].start == pytest.approx(6.1) and last_speech == pytest.approx(6.8)


def test_words_never_overlap_nor_start_inside_a_pause():
    audio = np.concatenate([tone(1.0), silence(1.0), tone(1.0)])  # a pause from 1.0 to 2.0 s
    segment = Decoded(0.0, 3.0, "a b c d", [1, 2, 3, 4])
    words = [timing(" a", 0.0, 0.6), timing(" b", 0.5, 1.3), timing(" c", 1.4, 2.5), timing(" d", 2.5, 3.0)]
    placed = finish([(segment, words)], Pauses(audio))[0]
    starts = [(w.word, w.start, w.end) for w in placed.words]
    assert starts == [("a", 0.0, 0.6), ("b", 0.6, 1.3), ("c", 2.0, 2.5), ("d", 2.5, 3.0)]
    assert (placed.start, placed.end) == (0.0, 3.0)


def test_a_word_wholly_inside_a_pause_goes_to_its_nearer_edge():
    audio = np.concatenate([tone(1.0), silence(2.0), tone(1.0)])  # a pause from 1.0 to 3.0 s
    segment = Decoded(0.0, 4.0, "a b c", [1, 2, 3])
    words = [timing(" a", 0.0, 0.9), timing(" b", 2.5, 2.8), timing(" c", 2.8, 4.0)]
    assert [(w.start, w.end) for w in finish([(segment, words)], Pauses(audio))[0].words] == [
        (0.0, 0.9),
        (3.0, 3.3),
        (3.3, 4.0),
    ]
    trailing = [timing(" a", 0.0, 0.7), timing(" b", 1.1, 1.3), timing(" c", 3.0, 4.0)]
    assert [(w.start, w.end) for w in finish([(segment, trailing)], Pauses(audio))[0].words] == [
        (0.0, 0.7),
        (0.8, 1.0),
        (3.0, 4.0),
    ]


def test_a_corrected_segment_keeps_its_times_and_its_words_stay_inside():
    segment = Decoded(1.0, 2.0, "a b", [1, 2])
    words = [timing(" a", 0.8, 1.5), timing(" b", 1.5, 2.4)]
    placed = finish([(segment, words)], Pauses(tone(3.0)), keep_times=True)[0]
    assert (placed.start, placed.end) == (1.0, 2.0)
    assert [(w.start, w.end) for w in placed.words] == [(1.0, 1.5), (1.5, 2.0)]


# -- in the engine, on a random checkpoint given alignment heads -----------------------------------------
@pytest.fixture(scope="module")
def headed_checkpoint(random_checkpoint, tmp_path_factory) -> Path:
    """The random checkpoint naming alignment heads (every head of its last decoder layer), as
    every published Whisper checkpoint does."""
    folder = tmp_path_factory.mktemp("headed") / "checkpoint"
    shutil.copytree(random_checkpoint, folder)
    config = json.loads((folder / "config.json").read_text())
    generation = json.loads((folder / "generation_config.json").read_text())
    last = config["decoder_layers"] - 1
    generation["alignment_heads"] = [[last, head] for head in range(config["decoder_attention_heads"])]
    (folder / "generation_config.json").write_text(json.dumps(generation))
    return folder


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_words_are_placed_and_realigned_in_order_at_each_precision(headed_checkpoint, media, precision):
    engine = Engine(str(headed_checkpoint), device="cpu", precision=precision)
    engine.start()
    assert engine.wait_until_loaded(120).state is ModelState.READY
    samples = decode(media["wav"])
    transcript = engine.transcribe(samples, Options(language="en"))
    words = [word for segment in transcript.segments for word in segment.words]
    assert words and all(segment.words for segment in transcript.segments)
    assert all(0 <= a.start <= a.end <= b.start <= b.end for a, b in pairwise(words))
    segment = transcript.segments[0]
    clip = samples[round(segment.start * SAMPLE_RATE) :]
    placed = engine.realign(clip, segment.start, segment.end, "three eleven stop", "en").result(timeout=60)
    assert [w.word for w in placed] == ["three", "eleven", "stop"]
    assert all(segment.start <= w.start <= w.end <= segment.end for w in placed)
    engine.close()
