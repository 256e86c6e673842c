"""Who said what in a stored transcript: a person's names for its speakers, merges and moves (each
kept beside the labeller's speakers, so each can be undone), and labelling speakers afterwards on
the stored recording without transcribing it again."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from dataclasses import replace
from typing import NoReturn

from backend import audio
from backend.engine.manager import ModelManager
from backend.history.corrections import NotCorrectable
from backend.history.store import Job, Status, Store
from backend.transcript import Options, Segment, SpeakerEdits

log = logging.getLogger(__name__)

#: Speaker numbers a segment may be moved to (a new speaker gets the next free number).
MOST_SPEAKER_NUMBER = 99
LONGEST_NAME = 80


class Speakers:
    """Names, merges, moves and labelling of one stored transcript's speakers."""

    def __init__(self, store: Store, models: ModelManager, max_seconds: float) -> None:
        self.store = store
        self.models = models
        self.max_seconds = max_seconds

    def rename(self, job_id: str, speaker: int, name: str | None) -> Job:
        """Call ``speaker`` ``name`` in every segment of this transcript (``None`` or blank: "Speaker N" again)."""
        self.speaking(job_id, speaker)
        name = " ".join((name or "").split())[:LONGEST_NAME]

        def change(edits: SpeakerEdits) -> SpeakerEdits:
            names = {k: v for k, v in edits.names.items() if k != speaker} | ({speaker: name} if name else {})
            return replace(edits, names=names)

        return self.store.edit_speakers(job_id, change) or gone()

    def merge(self, job_id: str, speaker: int, into: int | None) -> Job:
        """Give every segment of ``speaker`` to ``into`` (``None``: undo the merge of ``speaker``)."""
        job = self.finished(job_id)
        if into is None:
            if speaker not in self.edits(job_id).merged:
                raise NotCorrectable(404, f"Speaker {speaker} was not merged into another: there is nothing to undo.")
            return self.store.edit_speakers(job_id, lambda e: replace(e, merged=without(e.merged, speaker))) or job
        self.speaking(job_id, speaker)
        self.speaking(job_id, into)
        if into == speaker:
            raise NotCorrectable(409, "A speaker cannot be merged into itself: pick another speaker.")
        return self.store.edit_speakers(job_id, lambda e: replace(e, merged={**e.merged, speaker: into})) or job

    def move(self, job_id: str, index: int, speaker: int | None) -> Job:
        """Give segment ``index`` to ``speaker`` (one that speaks, or a new number; ``None``: the labeller's again)."""
        job = self.finished(job_id)
        segments = job.transcript.segments
        if not 0 <= index < len(segments):
            raise NotCorrectable(
                404, f"This transcript has {len(segments)} segments (numbered from 0): there is no segment {index}."
            )
        if segments[index].speaker is None:
            raise NotCorrectable(409, "This transcript has no speakers yet: label its speakers first.")
        if speaker is not None and not 1 <= speaker <= MOST_SPEAKER_NUMBER:
            raise NotCorrectable(404, f"Speakers are numbered from 1 to {MOST_SPEAKER_NUMBER}: there is no {speaker}.")

        def change(edits: SpeakerEdits) -> SpeakerEdits:
            moved = without(edits.moved, index) | ({} if speaker is None else {index: speaker})
            return replace(edits, moved=moved)

        return self.store.edit_speakers(job_id, change) or job

    def label(self, job_id: str, options: Options) -> Future[Job]:
        """Label the speakers of a finished transcript on its stored recording (no new transcription):
        the future gives the job once they are labelled. Corrected segments keep their place whole."""
        job = self.finished(job_id)
        segments, corrected = self.store.model_segments(job_id)
        samples = audio.decode(job.audio, f"'{job.filename}'", self.max_seconds)
        labelled = self.models.engine().label_speakers(samples, segments, options, frozenset(corrected))
        result: Future[Job] = Future()

        def store(done: Future[list[list[Segment]]]) -> None:
            try:
                parts = done.result()
                places, flat = {}, []
                for index, group in enumerate(parts):
                    places[index] = len(flat)
                    flat += group
                moved = {places[i]: c for i, c in corrected.items() if i in places}
                result.set_result(self.store.relabel(job_id, flat, moved) or job)
            except BaseException as error:  # the route hears why; the transcript stays as it was
                result.set_exception(error)

        labelled.add_done_callback(store)
        return result

    # -- checks ---------------------------------------------------------------------------------------
    def finished(self, job_id: str) -> Job:
        job = self.store.get(job_id)
        if job is None:
            gone()
        if job.status is not Status.DONE or job.transcript is None:
            raise NotCorrectable(409, f"This transcription is {job.status.value}: only a finished one has speakers.")
        return job

    def speaking(self, job_id: str, speaker: int) -> Job:
        """The job, if ``speaker`` speaks in it (or was merged away, for a rename)."""
        job = self.finished(job_id)
        present = set(job.transcript.speaker_names()) | set(self.edits(job_id).merged)
        if speaker not in present:
            if not present:
                raise NotCorrectable(409, "This transcript has no speakers yet: label its speakers first.")
            known = ", ".join(map(str, sorted(present)))
            raise NotCorrectable(404, f"There is no speaker {speaker} in this transcript (there are {known}).")
        return job

    def edits(self, job_id: str) -> SpeakerEdits:
        return self.store.speaker_edits(job_id)


def without(entries: dict[int, int], key: int) -> dict[int, int]:
    return {k: v for k, v in entries.items() if k != key}


def gone() -> NoReturn:
    raise NotCorrectable(404, "There is no transcription with this id; it may have been deleted.")
