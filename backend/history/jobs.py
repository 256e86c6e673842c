"""The transcription queue: every job is stored before it runs, then tracked to its end.

The engine knows nothing of the store and the store nothing of the engine; this module
joins them. A job's recording is on disk before it is decoded, so a failure, a cancel or
a kill never loses it, and a client that disconnects no longer matters: the job
finishes and lands in the history. What a long job has finished is saved as it goes, so
"Transcribe again" after a crash or a quit goes on from there.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from backend import audio
from backend.engine.manager import ModelManager
from backend.history.store import Job, Status, Store
from backend.transcript import Cancelled, Failed, Options, Request, Segment, Transcript

log = logging.getLogger(__name__)

#: Peak level (full scale 1.0) under which a recording counts as silence: about -60 dBFS,
#: below any microphone's noise floor with speech, so Whisper is not asked to hallucinate.
SILENCE_PEAK = 1e-3


class NotActive(RuntimeError):
    """Cancel asked for a job that is not queued or running (or retry/delete for one that is)."""


@dataclass
class Active:
    """What is known of a queued or running job beyond its row: the engine's future and progress."""

    cancel: threading.Event
    future: Future[Transcript] | None = None
    running: bool = False
    progress: float = 0.0
    stage: str | None = None
    segments: list[Segment] = field(default_factory=list)  # the windows decoded so far
    listener: Callable[[list[Segment]], None] | None = None


@dataclass(frozen=True)
class Standing:
    """Where a job not yet finished stands, as the API shows it."""

    #: Fraction of the audio transcribed (0..1).
    progress: float = 0.0
    #: Jobs ahead of it in the queue: 0 while it runs, ``None`` when it is neither queued nor running.
    position: int | None = None
    #: What the engine is doing, where it says more than the fraction (a remote engine's upload).
    stage: str | None = None


def is_silent(samples: np.ndarray) -> bool:
    return not samples.size or float(np.max(np.abs(samples))) < SILENCE_PEAK


class Jobs:
    """Stores uploads, queues them on the engine's one worker and records how each ends."""

    def __init__(self, store: Store, models: ModelManager, max_seconds: float) -> None:
        """Each job goes to the engine in use when it starts (the user may switch models while Hush runs)."""
        self.store = store
        self.models = models
        self.max_seconds = max_seconds
        self._active: dict[str, Active] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._closing = False

    def open(self) -> int:
        """At start-up: mark what a previous run left unfinished; returns how many."""
        count = self.store.interrupt_unfinished()
        if count:
            log.warning("%d transcription(s) were interrupted by the last shutdown; they can be retried.", count)
        return count

    def close(self) -> None:
        """Shutting down: jobs cut short from now on are ``interrupted`` (retryable), not ``cancelled``.
        Call before the engines are closed."""
        self._closing = True

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job is queued or running (each has recorded how it ended); ``False`` on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._active, timeout)

    # -- starting ------------------------------------------------------------------
    def add(self, source: BinaryIO, filename: str | None, options: Options, dictation: bool = False) -> Job:
        """Check the options, then store the recording and a queued job (blocking: file I/O);
        ``dictation``: spoken into another app."""
        options = self.models.engine().check(options)
        return self.store.add(source, filename, options, dictation)

    def start(
        self, job: Job, name: str = "", on_segments: Callable[[list[Segment]], None] | None = None
    ) -> Future[Transcript]:
        """Decode the stored recording and queue it (blocking: decoding). A decoding failure
        marks the job ``failed`` (its recording stays) and is raised as ``AudioError``;
        ``name`` is how messages call the file (default: its name); ``on_segments`` hears each
        window's segments as they are decoded (a streamed answer)."""
        with self._lock:
            if job.id in self._active:
                raise NotActive("This transcription is already queued or running.")
            active = self._active[job.id] = Active(threading.Event(), listener=on_segments)
        try:
            started = time.perf_counter()
            with job.audio.open("rb") as source:  # by content: FFmpeg would trust a file name's extension
                samples = audio.decode(source, name or f"'{job.filename}'", self.max_seconds)
            seconds = audio.duration(samples)
            decoded = round(time.perf_counter() - started, 4)
            if is_silent(samples):
                future: Future[Transcript] = Future()
                future.set_result(Transcript("", job.options.language, seconds, [], self.models.model_id, {}))
            else:
                request = Request(
                    audio=samples,
                    options=job.options,
                    on_progress=functools.partial(self._progress, job.id),
                    on_segments=functools.partial(self._heard, active),
                    on_partial=functools.partial(self.store.save_partial, job.id),
                    resume=self.store.partial(job.id),
                    cancel=active.cancel,
                    stream=on_segments is not None,
                )
                future = self.models.engine().submit(request)
        except Exception as error:
            with self._lock:
                del self._active[job.id]
            self.store.set_status(job.id, Status.FAILED, str(error))
            raise
        active.future = future
        future.add_done_callback(lambda f: self._finished(job.id, f, decoded))
        return future

    def retry(self, job_id: str) -> Job:
        """Queue a stored job again with its original options (``KeyError`` if unknown)."""
        job = self.store.get(job_id)
        if job is None:
            raise KeyError(job_id)
        if job.status in (Status.QUEUED, Status.RUNNING) or job_id in self._active:
            raise NotActive("This transcription is already queued or running.")
        self.store.set_status(job_id, Status.QUEUED)
        self.start(job)
        return self.store.get(job_id) or job

    # -- following -----------------------------------------------------------------
    def cancel(self, job_id: str) -> None:
        """Drop a queued job at once; stop a running one before its next 30 s window."""
        with self._lock:
            active = self._active.get(job_id)
        if active is None:
            raise NotActive("Only a queued or running transcription can be cancelled.")
        active.cancel.set()
        if active.future is not None:
            active.future.cancel()  # succeeds only while it is still queued

    def standing(self, job_id: str) -> Standing:
        """How far a queued or running job is, and how many jobs are ahead of it."""
        with self._lock:
            active = self._active.get(job_id)
            if active is None:
                return Standing()
            waiting = [i for i, a in self._active.items() if not a.running]
            ahead = sum(a.running for a in self._active.values())
            position = 0 if active.running else ahead + waiting.index(job_id)
            return Standing(active.progress, position, active.stage)

    def segments_so_far(self, job_id: str) -> list[Segment]:
        """The segments a running job has decoded so far (empty when it is not running)."""
        with self._lock:
            active = self._active.get(job_id)
            return list(active.segments) if active else []

    def is_active(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._active

    def _progress(self, job_id: str, done: float, stage: str | None = None) -> None:
        with self._lock:
            active = self._active.get(job_id)
            first = active is not None and not active.running
            if active is not None:
                active.running, active.progress, active.stage = True, done, stage
        if first:
            self.store.set_status(job_id, Status.RUNNING)

    def _heard(self, active: Active, segments: list[Segment]) -> None:
        with self._lock:
            active.segments.extend(segments)
        if active.listener is not None:
            active.listener(segments)

    def _finished(self, job_id: str, future: Future[Transcript], decoded: float) -> None:
        try:
            transcript = future.result()
        except (Cancelled, CancelledError):
            if self._closing:
                self.store.set_status(job_id, Status.INTERRUPTED, "Hush stopped before this transcription finished.")
            else:
                self.store.set_status(job_id, Status.CANCELLED, "The transcription was cancelled.")
        except Failed as error:  # a reason meant for the user, already in a sentence
            log.warning("transcription %s failed: %s", job_id, error)
            self.store.set_status(job_id, Status.FAILED, str(error))
        except Exception as error:  # the job fails, the server goes on; the recording stays for a retry
            log.exception("transcription %s failed", job_id)
            self.store.set_status(job_id, Status.FAILED, f"The transcription failed ({type(error).__name__}: {error}).")
        else:
            transcript.timings = {"decode": decoded, **transcript.timings}
            self.store.finish(job_id, transcript)
            self.store.save_partial(job_id, None)
        finally:
            with self._lock:
                self._active.pop(job_id, None)
                self._idle.notify_all()
