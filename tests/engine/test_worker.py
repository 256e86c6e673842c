"""backend/engine/worker.py and its use by the engine: live updates overtake file jobs, neither starves the other."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest

from backend.engine.engine import Engine
from backend.engine.worker import InferenceWorker
from backend.status import ModelState
from backend.transcript import Options, Priority, Request
from tests.support.helpers import wait_until


def test_live_work_overtakes_queued_file_jobs():
    worker = InferenceWorker()
    order: list[str] = []
    gate, running = threading.Event(), threading.Event()
    first = worker.submit(lambda: (running.set(), gate.wait(10), order.append("file 1")))
    running.wait(10)
    files = [worker.submit(order.append, f"file {i}") for i in (2, 3)]
    live = worker.submit(order.append, "live", priority=Priority.LIVE)
    gate.set()
    for future in (first, *files, live):
        future.result(10)
    assert order == ["file 1", "live", "file 2", "file 3"]
    worker.shutdown(cancel_pending=False)


def test_a_running_file_job_hands_over_between_windows_and_still_moves_on():
    worker = InferenceWorker()
    order: list[str] = []
    asked = threading.Event()
    sessions_asked = threading.Event()

    def file_job() -> None:
        for window in range(3):
            order.append(f"window {window}")
            if window == 0:
                asked.set()
                sessions_asked.wait(10)
            worker.serve_live()

    def session(name: str, updates: int) -> None:
        # Like a live session: the next update is asked for when the last one has answered.
        for n in range(updates):
            worker.submit(order.append, f"{name}.{n}", priority=Priority.LIVE).result(10)

    job = worker.submit(file_job)
    asked.wait(10)
    threads = [threading.Thread(target=session, args=(name, 3)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(worker._queues[Priority.LIVE]) == 2, 10, "both sessions to ask for an update")
    sessions_asked.set()
    job.result(10)
    for thread in threads:
        thread.join(10)
    windows = [i for i, item in enumerate(order) if item.startswith("window")]
    # Between two windows at most one update per session: the file job is never starved.
    for before, after in itertools.pairwise(windows):
        between = order[before + 1 : after]
        assert len(between) <= 2 and len({item[0] for item in between}) == len(between), order
    assert order[windows[0] + 1 : windows[1]] != [], "live work waited for the whole file job"
    worker.shutdown(cancel_pending=False)


def test_a_queued_task_can_be_cancelled_and_shutdown_drops_the_rest():
    worker = InferenceWorker()
    gate, started = threading.Event(), threading.Event()
    running = worker.submit(lambda: (started.set(), gate.wait(10))[1])
    started.wait(10)
    queued = worker.submit(lambda: "never")
    later = worker.submit(lambda: "never either", priority=Priority.LIVE)
    assert queued.cancel()
    worker.shutdown(cancel_pending=True)
    gate.set()
    assert running.result(10) is True
    assert queued.cancelled() and later.cancelled()
    with pytest.raises(RuntimeError, match="shut down"):
        worker.submit(lambda: None)


def test_shutdown_can_wait_for_the_thread_to_end():
    """A process that exits while the thread is still in torch's code can abort."""
    worker = InferenceWorker()
    started = threading.Event()
    running = worker.submit(lambda: (started.set(), threading.Event().wait(0.3), "done")[2])
    assert started.wait(10)
    worker.shutdown(cancel_pending=True, timeout=10)
    assert running.done() and running.result() == "done"
    assert not worker._thread.is_alive()


def test_live_transcription_runs_between_the_windows_of_a_long_file(random_checkpoint, speech_samples):
    engine = Engine(str(random_checkpoint), device="cpu")
    engine.start()
    assert engine.wait_until_loaded(120).state is ModelState.READY
    # Speech, not noise: long form cuts the recording at its pauses and skips what has no voice.
    samples, rate = speech_samples
    phrase = np.interp(np.arange(0, len(samples), rate / 16_000), np.arange(len(samples)), samples)
    speech = np.resize(phrase.astype(np.float32), 16_000 * 95)
    alone = engine.submit(Request(audio=speech, options=Options(temperature=0))).result(120)

    started = threading.Event()
    events: list[str] = []
    job = engine.submit(Request(audio=speech, options=Options(temperature=0), on_progress=lambda done: started.set()))
    started.wait(60)
    live = engine.submit(Request(audio=speech[: 16_000 * 5], options=Options(temperature=0), priority=Priority.LIVE))
    live.add_done_callback(lambda _: events.append("live"))
    job.add_done_callback(lambda _: events.append("file"))
    shared = job.result(120)
    assert live.result(10).text is not None
    assert events == ["live", "file"]
    # The update ran inside the file job's decoding: the file's transcript is unchanged by it.
    assert [(s.start, s.end, s.text) for s in shared.segments] == [(s.start, s.end, s.text) for s in alone.segments]
    engine.close()
