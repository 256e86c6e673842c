"""backend/engine/decoding.py: long audio cut at its pauses and decoded several chunks at a time."""

from __future__ import annotations

import math
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from backend import audio
from backend.engine import decoding
from backend.engine.decoding import Chunk, Decoding, Rules
from backend.engine.engine import Engine
from backend.engine.vad import pack
from backend.settings import LongForm
from backend.status import ModelState
from backend.transcript import Cancelled, Options, Request
from tests.support.word_error import normalise

PHRASES = ["one two three four", "yes no", "left right up down", "stop go", "five six seven", "eight nine zero",
           "on off", "two four six eight", "go left", "nine one"]  # fmt: skip
SPOKEN = " ".join(PHRASES).split()
GREEDY = Options(language="en", temperature=0, words=False)


@pytest.fixture(scope="module")
def phrases(speak) -> np.ndarray:
    """The ten phrases with 1.5 s pauses: about 30 s, three of the trained model's 10 s windows."""
    pause = np.zeros(int(1.5 * audio.SAMPLE_RATE), np.float32)
    parts = [pause]
    for phrase in PHRASES:
        parts += [audio.decode(speak(phrase)), pause]
    return np.concatenate(parts)


def loaded(checkpoint, long_form: LongForm) -> Engine:
    engine = Engine(str(checkpoint), device="cpu", long_form=long_form)
    engine.start()
    assert engine.wait_until_loaded(120).state is ModelState.READY
    return engine


@pytest.fixture(scope="module")
def engines(words_checkpoint):
    """The trained tiny Whisper, once batched (one chunk per batch: several batches) and once sequential."""
    chunked, sequential = loaded(words_checkpoint, LongForm.BATCHED), loaded(words_checkpoint, LongForm.SEQUENTIAL)
    chunked._batched.batch_size = 1
    yield chunked, sequential
    chunked.close()
    sequential.close()


def encoder_calls(engine: Engine) -> list[int]:
    """A list that gains an entry (the batch size) for every encoder pass of ``engine``'s model."""
    calls: list[int] = []
    engine._ready()[0].get_encoder().register_forward_hook(lambda _m, args, _o: calls.append(args[0].shape[0]))
    return calls


# -- the pieces --------------------------------------------------------------------------------
def test_speech_is_packed_into_chunks_of_one_window_that_end_in_pauses():
    spans = [(0.5, 3.0), (4.0, 8.0), (9.0, 29.0), (30.0, 33.0), (34.0, 62.0), (63.0, 70.0)]
    chunks = pack(spans, 30.0, 65 * audio.SAMPLE_RATE)  # the last span runs past the audio's end
    rate = audio.SAMPLE_RATE
    expected = [(0.5, 29), (30, 33), (34, 62), (63, 65)]
    assert chunks == [(round(start * rate), end * rate) for start, end in expected]


@pytest.mark.parametrize(
    ("options", "seconds", "long_form", "expected"),
    [
        (GREEDY, 31.0, LongForm.AUTO, True),  # longer than a window
        (GREEDY, 29.0, LongForm.AUTO, False),  # one window: the dictation path
        (Options(beam_size=5), 300.0, LongForm.AUTO, False),  # beam search decodes sequentially
        (GREEDY, 300.0, LongForm.SEQUENTIAL, False),
        (GREEDY, 5.0, LongForm.BATCHED, True),
    ],
)
def test_long_audio_is_batched_unless_beam_search_or_the_setting_says_otherwise(options, seconds, long_form, expected):
    class Window:
        window = 30.0

    assert decoding.chosen(long_form, options, seconds, Window()) is expected


BEGIN, EOT, NO_TIMESTAMPS, VOCAB = 12, 10, 11, 20  # a toy vocabulary: 10 text tokens, then specials, then 8 timestamps


def allowed(tokens: list[int], logits: list[float] | None = None) -> set[int]:
    rules = Rules(None, [EOT], BEGIN, EOT, NO_TIMESTAMPS, 2, VOCAB, torch.device("cpu"))
    scores = torch.tensor([logits or [0.0] * VOCAB])
    history = torch.tensor([tokens], dtype=torch.long).reshape(1, -1)
    stamps = [t for t in tokens if t >= BEGIN]
    latest = torch.tensor([stamps[-1] if stamps else -1])
    return {i for i, v in enumerate(rules.apply(scores, history, latest)[0].tolist()) if v > -math.inf}


def test_a_chunk_starts_with_an_early_timestamp():
    assert allowed([]) == {BEGIN, BEGIN + 1, BEGIN + 2}


def test_a_segment_closes_with_a_timestamp_then_opens_the_next_or_ends():
    likely_end = [0.0] * EOT + [5.0] + [0.0] * (VOCAB - EOT - 1)
    assert allowed([BEGIN, 3, BEGIN + 2], likely_end) == {EOT, *range(BEGIN + 2, VOCAB)}  # no text: pair it or end
    assert allowed([BEGIN, 3, BEGIN + 2, BEGIN + 3]) == set(range(EOT + 1))  # after a pair: text or the end
    assert BEGIN + 1 not in allowed([BEGIN + 2, 3])  # never back in time


def test_a_timestamp_is_forced_where_timestamps_together_are_likelier_than_any_word():
    logits = [1.0] * EOT + [-9.0, -9.0] + [1.5] * (VOCAB - BEGIN)
    assert allowed([BEGIN, 3], logits) == set(range(BEGIN + 1, VOCAB))


def test_a_chunks_tokens_become_segments_in_its_own_time(engines):
    model = engines[0]._batched
    tokenizer = model.processor.tokenizer
    word = {w: tokenizer.convert_tokens_to_ids(f"Ġ{w}") for w in ("one", "two", "three")}
    begin = model.timestamp_begin
    tokens = [begin + 10, word["one"], begin + 40, begin + 50, word["two"], begin + 80, begin + 90, word["three"]]
    pieces, rest = model.segments(tokens, Chunk(0, 5 * audio.SAMPLE_RATE))
    assert [(p.start, p.end, p.text) for p in pieces] == [
        (0.2, 0.8, "one"),
        (1.0, 1.6, "two"),
        (1.8, 5.0, "three"),  # no closing timestamp: it ends with the chunk, which ends in a pause
    ]
    assert rest is None


def test_speech_after_a_last_opening_timestamp_is_decoded_again(engines):
    """Whisper opens a segment and stops where it takes the speech to run on past the window."""
    model = engines[0]._batched
    one = model.processor.tokenizer.convert_tokens_to_ids("Ġone")
    begin = model.timestamp_begin
    pieces, rest = model.segments([begin, one, begin + 40, begin + 60], Chunk(0, 5 * audio.SAMPLE_RATE))
    assert [p.text for p in pieces] == ["one"] and rest == pytest.approx(1.2)
    assert model.segments([begin, one, begin + 40, begin + 220], Chunk(0, 5 * audio.SAMPLE_RATE))[1] is None
    assert model.segments([begin], Chunk(0, 5 * audio.SAMPLE_RATE))[1] is None  # from 0 again: the same again


def test_one_window_stopped_at_an_opening_timestamp_goes_on_from_there(engines, monkeypatch):
    engine = engines[1]  # sequential: a clip of one window goes through run_window all the same
    model = engine._batched
    word = {w: model.processor.tokenizer.convert_tokens_to_ids(f"Ġ{w}") for w in ("one", "two")}
    begin = model.timestamp_begin
    scripted = [[begin, word["one"], begin + 40, begin + 60], [begin, word["two"], begin + 30]]
    clips = []

    def decode(hidden, prefix, temperatures, steps, most=None, draft=None):
        clips.append(hidden.shape)
        return [Decoding(scripted[len(clips) - 1], -0.1, 0.0)]

    monkeypatch.setattr(model, "decode", decode)
    result = engine.transcribe(np.zeros(5 * audio.SAMPLE_RATE, np.float32), GREEDY)
    assert [(s.start, s.end, s.text) for s in result.segments] == [(0.0, 0.8, "one"), (1.2, 1.8, "two")]
    assert result.text == "one two" and len(clips) == 2


def test_a_draft_changes_no_word_and_what_the_model_agrees_with_costs_one_call(engines, phrases):
    """A live pass gets the previous pass's text as its draft: right, it is checked in the prompt's
    call; wrong from some word on, decoding goes on from there as if there had been none."""
    engine = engines[1]  # one window goes through run_window, as a live pass does
    options = replace(GREEDY, short_context=True)
    clip = phrases[: 9 * audio.SAMPLE_RATE]
    calls: list[int] = []
    hook = engine._ready()[0].get_decoder().layers[0].fc1.register_forward_hook(lambda *_: calls.append(1))
    try:
        plain = engine.transcribe(clip, options)
        steps = len(calls)
        heard = tuple(plain.segments)
        drafted = engine.transcribe(clip, replace(options, draft=heard))
        agreed = len(calls) - steps
        wrong = (replace(heard[0], text=heard[0].text.replace("three", "stop")), *heard[1:])
        misled = engine.transcribe(clip, replace(options, draft=wrong))
        parted = len(calls) - steps - agreed
    finally:
        hook.remove()
    assert len(plain.text.split()) >= 6 and wrong != heard, plain.text
    assert drafted.text == plain.text and misled.text == plain.text
    assert agreed == 1 < parted < steps, (steps, agreed, parted)


def test_where_every_temperature_fails_the_likeliest_text_that_does_not_loop_is_kept(engines, monkeypatch):
    """Not the hottest try: on a clip that says the same paragraph twice it was made-up text."""
    model = engines[0]._batched
    ids = model.processor.tokenizer.convert_tokens_to_ids
    looping = [ids("Ġone"), ids("Ġtwo")] * 30
    tries = {
        0.0: Decoding(looping, -0.3, 0.0),  # loops
        0.5: Decoding([ids("Ġstop"), ids("Ġgo")], -1.5, 0.0),  # unsure, does not loop: kept
        1.0: Decoding([ids("Ġleft")], -2.5, 0.0),  # unsure, the hottest
    }
    monkeypatch.setattr(model, "greedy", lambda hidden, prefix, temperature, *_: [tries[temperature]])
    hidden = torch.zeros(1, 1, 1)
    assert model.decode(hidden, [], (0.0, 0.5, 1.0), lambda: None, None) == [tries[0.5]]
    tries[0.5] = Decoding(looping[1:], -0.9, 0.0)  # now every try loops or is unsure: the likeliest of all
    tries[1.0] = Decoding(looping[2:], -0.2, 0.0)
    assert model.decode(hidden, [], (0.0, 0.5, 1.0), lambda: None, None) == [tries[1.0]]


# -- a recording -------------------------------------------------------------------------------
def test_batched_and_sequential_hear_every_word_once(engines, phrases):
    chunked, sequential = engines
    calls = encoder_calls(chunked)
    batched_result = chunked.transcribe(phrases, GREEDY)
    assert normalise(batched_result.text) == SPOKEN
    assert normalise(sequential.transcribe(phrases, GREEDY).text) == SPOKEN
    assert len(calls) >= 3 and set(calls) == {1}  # several chunks, each encoded once on its own
    starts = [s.start for s in batched_result.segments]
    assert starts == sorted(starts) and batched_result.segments[-1].end <= batched_result.duration


def test_batches_keep_the_order_and_a_first_batch_of_one_chunk_when_asked():
    chunks = [decoding.Chunk(i, i + 1) for i in range(7)]
    assert decoding.batches(chunks, 3) == [chunks[0:3], chunks[3:6], chunks[6:]]
    assert decoding.batches(chunks, 3, first=1) == [chunks[0:1], chunks[1:4], chunks[4:7]]
    assert decoding.batches(chunks[:1], 3, first=1) == [chunks[:1]]
    assert decoding.batches([], 3, first=1) == []


def test_a_streamed_request_gets_its_first_text_after_one_chunk_and_the_same_text(engines, phrases):
    chunked, _ = engines
    plain = chunked.submit(Request(audio=phrases, options=GREEDY)).result(120)
    heard: list[list] = []
    streamed = chunked.submit(Request(audio=phrases, options=GREEDY, on_segments=heard.append, stream=True))
    assert streamed.result(120).text == plain.text
    assert len(heard) >= 2 and heard[0] == plain.segments[: len(heard[0])]


def test_progress_segments_and_partial_results_follow_the_batches(engines, phrases):
    chunked, _ = engines
    seen, heard, partials = [], [], []
    future = chunked.submit(
        Request(
            audio=phrases, options=GREEDY, on_progress=seen.append, on_segments=heard.extend, on_partial=partials.append
        )
    )
    result = future.result(120)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 4
    assert heard == result.segments
    assert len(partials) >= 3 and partials[-1].segments == tuple(result.segments)
    assert [p.until for p in partials] == sorted(p.until for p in partials)


def test_a_job_resumes_from_its_last_partial_result_without_decoding_it_again(engines, phrases):
    chunked, _ = engines
    partials = []
    whole = chunked.submit(Request(audio=phrases, options=GREEDY, on_partial=partials.append)).result(120)
    first = partials[0]
    calls = encoder_calls(chunked)
    resumed = chunked.submit(Request(audio=phrases, options=GREEDY, resume=first)).result(120)
    assert resumed.text == whole.text and resumed.segments == whole.segments
    assert len(calls) == len(partials) - 1  # one chunk per batch: the first is not encoded again


def test_a_partial_result_of_another_model_is_not_resumed(engines, phrases):
    chunked, _ = engines
    partials = []
    whole = chunked.submit(Request(audio=phrases, options=GREEDY, on_partial=partials.append)).result(120)
    foreign = partials[0].__class__("another-model", "de", partials[0].until, (), ())
    assert chunked.submit(Request(audio=phrases, options=GREEDY, resume=foreign)).result(120).text == whole.text


def test_cancel_stops_batched_decoding_at_its_next_step(engines, phrases):
    chunked, _ = engines
    cancel = threading.Event()
    seen: list[float] = []

    def cancel_after_first_batch(fraction: float) -> None:
        seen.append(fraction)
        if fraction > 0:
            cancel.set()

    job = chunked.submit(Request(audio=phrases, options=GREEDY, on_progress=cancel_after_first_batch, cancel=cancel))
    with pytest.raises(Cancelled):
        job.result(120)
    assert len(seen) == 2  # started, one batch done, then stopped
