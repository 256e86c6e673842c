"""A person's corrections of a transcript: saved at once, their words placed again by the model.

The model's own segments stay as it wrote them; each correction is kept beside its
segment (``store.py``), so reverting one brings back the model's text and word timings
exactly, without the model. A correction's words are realigned to the new text with the
model in use (forced alignment, ``engine/timing.py``) inside the segment's unchanged times;
where that cannot be done (the model is loading, has no alignment heads, the transcript
is a translation) the corrected segment simply has no words, its times kept.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import NoReturn

import numpy as np

from backend import audio
from backend.engine.manager import ModelManager
from backend.history.store import Job, Status, Store
from backend.status import ModelNotReady
from backend.transcript import Correction, Segment, Word

log = logging.getLogger(__name__)


class NotCorrectable(Exception):
    """The transcription is not finished (409), or has no such segment or correction (404)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class Corrections:
    """Saves and reverts corrections, and has the engine in use place a correction's words."""

    def __init__(self, store: Store, models: ModelManager, max_seconds: float) -> None:
        self.store = store
        self.models = models
        self.max_seconds = max_seconds

    def correct(self, job_id: str, index: int, text: str) -> Future[Job]:
        """Save ``text`` (its runs of spaces made one) as segment ``index``'s text at once, then place its
        words; the future gives the job once they are placed (or could not be). The model's own text
        again is a revert."""
        text = " ".join(text.split())
        job, segment = self.segment(job_id, index)
        model_text = segment.original if segment.original is not None else segment.text
        if text == model_text:
            return done(self.revert(job_id, index) if segment.original is not None else job)
        if text == segment.text and segment.words:
            return done(job)
        saved = self.store.correct(job_id, index, Correction(text)) or job
        if job.options.task != "transcribe":
            return done(saved)  # words of an English translation cannot be found in speech of another language
        try:
            engine = self.models.engine()
            clip = self.clip(job, segment.start)
            words = engine.realign(clip, segment.start, segment.end, text, job.transcript.language)
        except ModelNotReady:
            return done(saved)
        except (audio.AudioError, OSError) as error:
            log.warning("the recording of %s could not be read to place the corrected words: %s", job_id, error)
            return done(saved)
        result: Future[Job] = Future()
        words.add_done_callback(lambda placed: result.set_result(self.placed(saved, index, text, placed)))
        return result

    def revert(self, job_id: str, index: int) -> Job:
        """Segment ``index`` as the model wrote it again, text and words."""
        _, segment = self.segment(job_id, index)
        if segment.original is None:
            raise NotCorrectable(404, "This segment has no correction to revert: it is as the model wrote it.")
        return self.store.correct(job_id, index, None) or self.gone()

    def segment(self, job_id: str, index: int) -> tuple[Job, Segment]:
        """The finished job and its segment ``index``, or ``NotCorrectable`` saying why not."""
        job = self.store.get(job_id)
        if job is None:
            self.gone()
        if job.status is not Status.DONE or job.transcript is None:
            raise NotCorrectable(
                409, f"This transcription is {job.status.value}: only a finished one can be corrected."
            )
        segments = job.transcript.segments
        if not 0 <= index < len(segments):
            raise NotCorrectable(
                404, f"This transcript has {len(segments)} segments (numbered from 0): there is no segment {index}."
            )
        return job, segments[index]

    def clip(self, job: Job, start: float) -> np.ndarray:
        """The recording from ``start`` s on, decoded as for transcribing it."""
        samples = audio.decode(job.audio, f"'{job.filename}'", self.max_seconds)
        return samples[round(start * audio.SAMPLE_RATE) :]

    def placed(self, saved: Job, index: int, text: str, words: Future[tuple[Word, ...]]) -> Job:
        """The job with the correction's words stored, if they could be placed and the text is still ``text``."""
        try:
            found = words.result()
        except Exception:  # the correction stays, without words; the engine goes on
            log.exception("placing the words of a correction failed")
            return self.store.get(saved.id) or saved
        return self.store.place_words(saved.id, index, text, found) or saved

    @staticmethod
    def gone() -> NoReturn:
        raise NotCorrectable(404, "There is no transcription with this id; it may have been deleted.")


def done(job: Job) -> Future[Job]:
    future: Future[Job] = Future()
    future.set_result(job)
    return future
