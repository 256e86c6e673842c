"""backend/engine/engine.py: loading states, options, long audio and one-at-a-time inference."""

from __future__ import annotations

import json
import resource
import shutil
import threading
import time
from concurrent.futures import wait

import numpy as np
import pytest

from backend import audio
from backend.engine import vad
from backend.engine.engine import Engine
from backend.status import ModelNotReady, ModelState
from backend.transcript import Cancelled, InvalidOptions, Options, Request


@pytest.fixture(scope="module")
def engine(random_checkpoint) -> Engine:
    """The random checkpoint, long audio decoded window after window (the tests below feed it noise,
    which the batched path would skip as silence: tests/engine/test_decoding.py has its own)."""
    engine = Engine(str(random_checkpoint), device="cpu", long_form="sequential")
    engine.start()
    assert engine.wait_until_loaded(120).state is ModelState.READY
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def speech(media) -> np.ndarray:
    return audio.decode(media["wav"])


def loaded(model_id: str) -> Engine:
    engine = Engine(model_id, device="cpu")
    engine.start()
    engine.wait_until_loaded(120)
    return engine


def test_a_folder_checkpoint_loads_in_the_background_and_becomes_ready(random_checkpoint):
    engine = Engine(str(random_checkpoint), device="cpu")
    assert engine.status.state is ModelState.LOADING
    engine.start()
    status = engine.wait_until_loaded(120)
    assert status.state is ModelState.READY and "ready" in status.detail
    assert "en" in engine.languages and "de" in engine.languages


def test_a_missing_folder_is_reported_as_missing(tmp_path):
    status = loaded(str(tmp_path / "nowhere")).status
    assert status.state is ModelState.MISSING
    assert "does not exist" in status.detail


def test_a_folder_without_a_checkpoint_is_reported_as_missing(tmp_path):
    status = loaded(str(tmp_path)).status
    assert status.state is ModelState.MISSING
    assert "no config.json" in status.detail


def test_a_broken_checkpoint_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "whisper", "d_model": "wide"}))
    status = loaded(str(tmp_path)).status
    assert status.state is ModelState.ERROR
    assert "Could not load" in status.detail


def test_the_default_model_without_internet_says_how_to_get_it(no_internet):
    status = loaded("openai/whisper-small").status
    assert status.state is ModelState.MISSING
    assert "cannot be reached" in status.detail and "HUSH_MODEL" in status.detail


def test_work_is_refused_until_the_model_is_ready(tmp_path):

    engine = loaded(str(tmp_path / "nowhere"))
    with pytest.raises(ModelNotReady) as raised:
        engine.submit(Request(audio=np.zeros(16_000, np.float32)))
    assert raised.value.status.state is ModelState.MISSING


def test_transcribes_speech_into_words_with_timed_segments(engine, speech):
    result = engine.transcribe(speech)
    assert result.text.strip()
    assert result.language == "en"  # detected
    assert result.duration == pytest.approx(len(speech) / 16_000)
    assert result.segments and all(0 <= s.start <= s.end <= result.duration for s in result.segments)
    assert set(result.timings) >= {"encode", "generate", "total"}


def test_the_checkpoints_suppressed_tokens_never_appear(engine, random_checkpoint, speech, tmp_path):
    """``suppress_tokens`` of the generation config holds, though the engine applies it itself."""
    first = engine.transcribe(speech, Options(language="en", temperature=0)).text.split()
    tokenizer = engine._ready()[1].tokenizer
    banned = sorted({tokenizer.convert_tokens_to_ids(f"Ġ{word}") for word in first[:3]})
    copy = tmp_path / "checkpoint"
    shutil.copytree(random_checkpoint, copy)
    config = json.loads((copy / "generation_config.json").read_text())
    (copy / "generation_config.json").write_text(json.dumps({**config, "suppress_tokens": banned}))
    text = loaded(str(copy)).transcribe(speech, Options(language="en", temperature=0)).text
    assert text.strip() and not set(first[:3]) & set(text.split()), (first, text)


def test_a_given_language_and_task_are_honoured(engine, speech):
    result = engine.transcribe(speech, Options(language="German", task="translate", temperature=0))
    assert result.language == "de"
    assert result.text.strip()


def test_a_prompt_is_accepted(engine, speech):
    assert engine.transcribe(speech, Options(prompt="stop go", temperature=0)).text.strip()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (Options(language="klingon"), "Unknown language 'klingon'"),
        (Options(temperature=1.5), "temperature must be between 0 and 1"),
    ],
)
def test_invalid_options_are_rejected_with_a_reason(engine, options, message):
    with pytest.raises(InvalidOptions, match=message):
        engine.submit(Request(audio=np.zeros(16_000, np.float32), options=options))


def test_ten_minutes_are_covered_window_after_window_with_flat_memory(engine):
    minutes = 10
    noise = (np.random.default_rng(1).standard_normal(16_000 * 60 * minutes) * 0.05).astype(np.float32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = engine.transcribe(noise, Options(temperature=0))
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)
    assert starts[0] < 30 and result.segments[-1].end == pytest.approx(600, abs=1)
    assert all(b.start - a.end < 30 for a, b in zip(result.segments, result.segments[1:], strict=False))
    assert grown < 400, f"peak RSS grew by {grown:.0f} MB for 10 minutes of audio"


def test_requests_are_queued_and_run_one_at_a_time(engine, speech, monkeypatch):
    real_decode = engine._batched.run_window  # how one window of speech is decoded
    running, peak, lock = 0, 0, threading.Lock()

    def counting_decode(*args, **kwargs):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            time.sleep(0.05)
            return real_decode(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(engine._batched, "run_window", counting_decode)
    futures = [engine.submit(Request(audio=speech, options=Options(temperature=0))) for _ in range(5)]
    done, _ = wait(futures, timeout=120)
    assert len(done) == 5 and all(f.result().text for f in futures)
    assert peak == 1
    assert futures[-1].result().timings["queued"] > 0.1


def test_progress_is_reported_window_by_window(engine):
    seen: list[float] = []
    noise = (np.random.default_rng(2).standard_normal(16_000 * 95) * 0.05).astype(np.float32)
    engine.submit(Request(audio=noise, options=Options(temperature=0), on_progress=seen.append)).result(120)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen) and len(seen) >= 4  # 4 windows of 30 s, then done


def test_cancel_stops_a_running_job_before_its_next_window(engine):
    cancel = threading.Event()
    seen: list[float] = []

    def cancel_after_first_window(fraction: float) -> None:
        seen.append(fraction)
        if fraction > 0:
            cancel.set()

    noise = (np.random.default_rng(3).standard_normal(16_000 * 300) * 0.05).astype(np.float32)
    job = engine.submit(
        Request(audio=noise, options=Options(temperature=0), on_progress=cancel_after_first_window, cancel=cancel)
    )
    with pytest.raises(Cancelled):
        job.result(120)
    assert len(seen) == 2  # started, one window done, then stopped


def test_a_cancelled_queued_job_never_runs(engine, speech):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="before it started"):
        engine.submit(Request(audio=speech, cancel=cancel)).result(60)


def test_the_voice_activity_detector_runs_on_the_inference_thread(monkeypatch):
    """Torch on a second thread slowed every decoding step (a second OpenMP team on two cores)."""
    threads = []

    def speech_spans(samples: np.ndarray) -> list[tuple[float, float]]:
        threads.append(threading.current_thread().name)
        return [(0.0, len(samples) / audio.SAMPLE_RATE)]

    monkeypatch.setattr(vad, "speech_spans", speech_spans)
    engine = Engine("not-loaded", device="cpu")
    try:
        assert engine.speech(np.zeros(audio.SAMPLE_RATE, np.float32)).result(timeout=30) == [(0.0, 1.0)]
    finally:
        engine.close()
    assert threads == ["hush-inference"]
