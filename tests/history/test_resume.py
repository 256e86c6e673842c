"""A long job saves what it has finished; "Transcribe again" after a crash goes on from there."""

from __future__ import annotations

import io

import numpy as np
import pytest

from backend import audio
from backend.history.store import Status, Store
from backend.transcript import Options, Partial, Request, Segment, Word
from tests.support.helpers import wait_until
from tests.support.speech_corpus import write_wav
from tests.support.word_error import normalise

PHRASES = ["one two three four", "yes no", "left right up down", "stop go", "five six seven", "eight nine zero"]
GREEDY = Options(language="en", temperature=0, words=False)


@pytest.fixture(scope="module")
def recording(speak, tmp_path_factory) -> bytes:
    """The phrases with 1.5 s pauses, as a WAV: about 20 s, two of the trained model's 10 s windows."""
    pause = np.zeros(int(1.5 * audio.SAMPLE_RATE), np.float32)
    parts = [pause]
    for phrase in PHRASES:
        parts += [audio.decode(speak(phrase)), pause]
    path = tmp_path_factory.mktemp("resume") / "long.wav"
    write_wav(path, np.concatenate(parts))
    return path.read_bytes()


def test_a_partial_result_reads_back_as_it_was_saved_and_a_broken_one_not_at_all(tmp_path):
    words = (Word(0.5, 0.9, " one", 0.9),)
    partial = Partial("model", "en", 12.5, (Segment(0.5, 1.2, "one", words),), ((50, 51),))
    store = Store(tmp_path / "hush.db", tmp_path / "recordings")
    job = store.add(io.BytesIO(b"RIFF"), "long.wav", GREEDY)
    assert store.partial(job.id) is None
    store.save_partial(job.id, partial)
    assert store.partial(job.id) == partial
    store.save_partial(job.id, None)
    assert store.partial(job.id) is None
    broken = [{**partial.to_dict(), "tokens": []}, {**partial.to_dict(), "until": "soon"}, [], None]
    assert all(Partial.from_dict(values) is None for values in broken)


def test_transcribe_again_goes_on_from_the_last_saved_batch(words_server, recording):
    """A job that stopped after its first batch is not decoded from zero when it is retried."""
    jobs, engine = words_server.jobs, words_server.engine
    batch_size, engine._batched.batch_size = engine._batched.batch_size, 1  # a batch per chunk
    try:
        partials: list[Partial] = []
        samples = audio.decode(io.BytesIO(recording))
        whole = engine.submit(Request(audio=samples, options=GREEDY, on_partial=partials.append)).result(120)
        assert len(partials) >= 2
        job = jobs.store.add(io.BytesIO(recording), "long.wav", GREEDY)
        jobs.store.save_partial(job.id, partials[0])  # what a run killed after its first batch left
        jobs.store.set_status(job.id, Status.INTERRUPTED)
        encoded: list[int] = []
        hook = engine._ready()[0].get_encoder().register_forward_hook(lambda *_: encoded.append(1))
        try:
            jobs.retry(job.id)
            done = wait_until(lambda: (j := jobs.store.get(job.id)).status is Status.DONE and j, 120, "the retry")
        finally:
            hook.remove()
        assert normalise(done.transcript.text) == " ".join(PHRASES).split() == normalise(whole.text)
        assert done.transcript.segments == whole.segments
        assert len(encoded) == len(partials) - 1  # the first chunk is not encoded again
        assert jobs.store.partial(job.id) is None  # done: nothing left to resume
    finally:
        engine._batched.batch_size = batch_size
