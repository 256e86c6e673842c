"""``/api/transcriptions/{id}/speakers`` and a segment's speaker: who speaks when in a finished
transcript, labelled on its stored recording and corrected by a person (names, merges, moves;
each undoable with the matching DELETE)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from backend.history.corrections import NotCorrectable
from backend.history.jobs import Jobs
from backend.transcript import Options
from backend.web.dependencies import JobsDep, ReadyDep, SpeakersDep
from backend.web.routers.transcriptions import CORRECTABLE, JobId, SegmentIndex, describe
from backend.web.schemas import UPLOAD_PROBLEMS, Job, SegmentSpeaker, SpeakerLabelling, SpeakerMerge, SpeakerName

router = APIRouter(prefix="/api", tags=["speakers"])

SpeakerParam = Annotated[int, Path(ge=1, le=99, description="The speaker's number (a key of `speakers`).")]


def edited(jobs: Jobs, job_id: str, edit: Callable[[], object]) -> Job:
    """Run a person's edit and answer the job as it now reads (a refused edit as its problem)."""
    try:
        edit()
    except NotCorrectable as error:
        raise HTTPException(error.status, str(error)) from error
    return describe(jobs, job_id)


@router.post(
    "/transcriptions/{job_id}/speakers",
    response_model=Job,
    responses={**CORRECTABLE, 422: UPLOAD_PROBLEMS[422], 503: UPLOAD_PROBLEMS[503]},
    summary="Label who speaks in a finished transcript, on its stored recording (no new transcription)",
)
async def label_speakers(
    speakers: SpeakersDep, jobs: JobsDep, job_id: JobId, labelling: SpeakerLabelling, ready: ReadyDep
) -> Job:
    options = Options(**labelling.model_dump())
    try:
        future = await run_in_threadpool(speakers.label, job_id, options)
    except NotCorrectable as error:
        raise HTTPException(error.status, str(error)) from error
    await asyncio.shield(asyncio.wrap_future(future))
    return describe(jobs, job_id)


@router.put(
    "/transcriptions/{job_id}/speakers/{speaker}/name",
    response_model=Job,
    responses=CORRECTABLE,
    summary="Name a speaker (in every segment of theirs in this transcript)",
)
def rename_speaker(
    speakers: SpeakersDep, jobs: JobsDep, job_id: JobId, speaker: SpeakerParam, name: SpeakerName
) -> Job:
    return edited(jobs, job_id, lambda: speakers.rename(job_id, speaker, name.name))


@router.delete(
    "/transcriptions/{job_id}/speakers/{speaker}/name",
    response_model=Job,
    responses=CORRECTABLE,
    summary="Forget a speaker's name ('Speaker N' again)",
)
def unname_speaker(speakers: SpeakersDep, jobs: JobsDep, job_id: JobId, speaker: SpeakerParam) -> Job:
    return edited(jobs, job_id, lambda: speakers.rename(job_id, speaker, None))


@router.put(
    "/transcriptions/{job_id}/speakers/{speaker}/merge",
    response_model=Job,
    responses=CORRECTABLE,
    summary="Merge a speaker into another: every segment of theirs goes to the other",
)
def merge_speaker(
    speakers: SpeakersDep, jobs: JobsDep, job_id: JobId, speaker: SpeakerParam, merge: SpeakerMerge
) -> Job:
    return edited(jobs, job_id, lambda: speakers.merge(job_id, speaker, merge.into))


@router.delete(
    "/transcriptions/{job_id}/speakers/{speaker}/merge",
    response_model=Job,
    responses=CORRECTABLE,
    summary="Undo a speaker's merge",
)
def unmerge_speaker(speakers: SpeakersDep, jobs: JobsDep, job_id: JobId, speaker: SpeakerParam) -> Job:
    return edited(jobs, job_id, lambda: speakers.merge(job_id, speaker, None))


@router.put(
    "/transcriptions/{job_id}/segments/{index}/speaker",
    response_model=Job,
    responses=CORRECTABLE,
    summary="Give one segment to another speaker (or a new one)",
)
def move_segment(speakers: SpeakersDep, jobs: JobsDep, job_id: JobId, index: SegmentIndex, move: SegmentSpeaker) -> Job:
    return edited(jobs, job_id, lambda: speakers.move(job_id, index, move.speaker))


@router.delete(
    "/transcriptions/{job_id}/segments/{index}/speaker",
    response_model=Job,
    responses=CORRECTABLE,
    summary="Give a moved segment back to the speaker the labeller heard",
)
def unmove_segment(speakers: SpeakersDep, jobs: JobsDep, job_id: JobId, index: SegmentIndex) -> Job:
    return edited(jobs, job_id, lambda: speakers.move(job_id, index, None))
