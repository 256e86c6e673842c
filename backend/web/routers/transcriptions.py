"""``/api/transcriptions`` (audio in, transcript out, kept in the history and correctable) and
``/api/exports`` (transcript to file)."""

from __future__ import annotations

import asyncio
import mimetypes
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from backend.history import formats
from backend.history.corrections import NotCorrectable
from backend.history.jobs import Jobs
from backend.history.store import Job as StoredJob
from backend.transcript import Options, Segment, Task, Transcript, Word
from backend.web.dependencies import (
    CorrectionsDep,
    JobsDep,
    ReadyDep,
    TranscriberDep,
    UploadDep,
    blank_to_none,
    speakers_option,
)
from backend.web.schemas import (
    UPLOAD_PROBLEMS,
    Job,
    JobPage,
    JobSummary,
    Problem,
    SegmentCorrection,
    TranscriptExport,
    Transcription,
)

router = APIRouter(prefix="/api", tags=["transcriptions"])

NOT_FOUND = {404: {"model": Problem, "description": "No such transcription"}}
CONFLICT = {409: {"model": Problem, "description": "The transcription is (or is not) queued or running"}}


@router.post(
    "/transcriptions",
    response_model=Transcription,
    responses={**UPLOAD_PROBLEMS, 202: {"model": Job, "description": "Queued (with wait=false): follow it by its id"}},
    summary="Transcribe an audio or video file (stored in the history)",
)
async def create_transcription(
    transcribe: TranscriberDep,
    upload: UploadDep,
    jobs: JobsDep,
    language: Annotated[str | None, Form(description="Language code or name; empty or 'auto' detects it.")] = None,
    task: Annotated[Task, Form(description="transcribe, or translate into English.")] = "transcribe",
    prompt: Annotated[str | None, Form(description="Words or spellings to steer the transcript.")] = None,
    temperature: Annotated[
        float | None, Form(ge=0, le=1, description="Fixed sampling temperature; unset uses Whisper's fallback.")
    ] = None,
    beam_size: Annotated[int, Form(ge=1, le=10, description="1 is greedy (fastest); more beams, more accuracy.")] = 1,
    words: Annotated[
        bool,
        Form(description="Place every word in time (where the model has alignment heads); false is a little faster."),
    ] = True,
    speakers: Annotated[
        str | None,
        Form(description="Label who speaks: off (default), auto (as many as the voices show), or how many speakers."),
    ] = None,
    min_speakers: Annotated[int, Form(ge=1, le=20, description="With speakers=auto: at least this many.")] = 1,
    max_speakers: Annotated[int, Form(ge=1, le=20, description="With speakers=auto: at most this many.")] = 8,
    wait: Annotated[
        bool, Query(description="false: answer 202 with the queued job at once and follow it by its id.")
    ] = True,
) -> Transcription | JSONResponse:
    options = Options(
        language=blank_to_none(language),
        task=task,
        prompt=prompt,
        temperature=temperature,
        beam_size=beam_size,
        words=words,
        speakers=speakers_option(speakers),
        min_speakers=min_speakers,
        max_speakers=max_speakers,
    )
    if not wait:
        job, _ = await transcribe.queue(upload, options)
        return JSONResponse(describe(jobs, job.id).model_dump(mode="json"), status_code=202)
    job_id, transcript = await transcribe(upload, options)
    return Transcription.of(job_id, transcript)


# -- the history --------------------------------------------------------------------------
JobId = Annotated[str, Path(description="The id POST /api/transcriptions returned.", max_length=64)]


def stored(jobs: Jobs, job_id: str) -> StoredJob:
    job = jobs.store.get(job_id)
    if job is None:
        raise HTTPException(404, "There is no transcription with this id; it may have been deleted.")
    return job


def job_fields(jobs: Jobs, job: StoredJob) -> dict:
    """A stored job's fields as the API shows them: with live progress and queue position, and the
    transcript's own fields once it is done."""
    standing = jobs.standing(job.id)
    fields = {"id": job.id, "created": job.created, "filename": job.filename, "status": job.status}
    fields["dictation"] = job.dictation
    fields |= {"error": job.error, **vars(standing)}
    if job.transcript is not None:
        fields |= {**vars(job.transcript), "progress": 1.0, "speakers": job.transcript.speaker_names()}
    return fields


def describe(jobs: Jobs, job_id: str) -> Job:
    """One stored job; while it runs, with its text window by window."""
    job = stored(jobs, job_id)
    fields = job_fields(jobs, job)
    if job.transcript is None:
        fields["segments"] = [replace(s, words=()) for s in jobs.segments_so_far(job.id) or []]
    return Job.model_validate(fields)


@router.get("/transcriptions", response_model=JobPage, summary="The history, newest first, with full-text search")
def list_transcriptions(
    jobs: JobsDep,
    q: Annotated[str, Query(description="Words to find in transcripts and file names.", max_length=500)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> JobPage:
    found, total = jobs.store.list(q, limit, offset)
    items = [JobSummary.model_validate(job_fields(jobs, job)) for job in found]
    return JobPage(items=items, total=total, offset=offset, limit=limit)


@router.get("/transcriptions/{job_id}", response_model=Job, responses=NOT_FOUND, summary="One transcription")
def get_transcription(jobs: JobsDep, job_id: JobId) -> Job:
    return describe(jobs, job_id)


@router.delete(
    "/transcriptions/{job_id}",
    status_code=204,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Delete a transcription and its recording",
)
def delete_transcription(jobs: JobsDep, job_id: JobId) -> Response:
    stored(jobs, job_id)
    if jobs.is_active(job_id):
        raise HTTPException(409, "This transcription is still queued or running: cancel it first, then delete it.")
    jobs.store.delete(job_id)
    return Response(status_code=204)


@router.get(
    "/transcriptions/{job_id}/audio",
    response_class=FileResponse,
    responses={**NOT_FOUND, 200: {"content": {"audio/*": {}, "video/*": {}}}},
    summary="The stored recording",
)
def get_audio(jobs: JobsDep, job_id: JobId) -> FileResponse:
    job = stored(jobs, job_id)
    if not job.audio.is_file():
        raise HTTPException(404, "The recording of this transcription is no longer on disk.")
    media_type = mimetypes.guess_type(job.audio.name)[0] or "application/octet-stream"
    return FileResponse(job.audio, media_type=media_type)


@router.post(
    "/transcriptions/{job_id}/retry",
    status_code=202,
    response_model=Job,
    responses={**NOT_FOUND, **CONFLICT, **UPLOAD_PROBLEMS},
    summary="Transcribe a stored recording again (interrupted, failed or cancelled jobs)",
)
async def retry_transcription(jobs: JobsDep, job_id: JobId, ready: ReadyDep) -> Job:
    stored(jobs, job_id)
    await run_in_threadpool(jobs.retry, job_id)
    return describe(jobs, job_id)


@router.post(
    "/transcriptions/{job_id}/cancel",
    status_code=202,
    response_model=Job,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Cancel a queued job at once, a running one before its next 30 s window",
)
def cancel_transcription(jobs: JobsDep, job_id: JobId) -> Job:
    stored(jobs, job_id)
    jobs.cancel(job_id)
    return describe(jobs, job_id)


# -- corrections ------------------------------------------------------------------------------
SegmentIndex = Annotated[int, Path(ge=0, le=10_000_000, description="The segment's place in `segments`, from 0.")]
CORRECTABLE = {
    404: {"model": Problem, "description": "No such transcription, segment or correction"},
    409: {"model": Problem, "description": "The transcription is not finished"},
}


@router.patch(
    "/transcriptions/{job_id}/segments/{index}",
    response_model=Job,
    responses={**CORRECTABLE, 422: UPLOAD_PROBLEMS[422]},
    summary="Correct a segment's text; its words are placed again by the model (the model's text is kept)",
)
async def correct_segment(
    corrections: CorrectionsDep, jobs: JobsDep, job_id: JobId, index: SegmentIndex, correction: SegmentCorrection
) -> Job:
    try:
        future = await run_in_threadpool(corrections.correct, job_id, index, correction.text)
    except NotCorrectable as error:
        raise HTTPException(error.status, str(error)) from error
    await asyncio.shield(asyncio.wrap_future(future))
    return describe(jobs, job_id)


@router.delete(
    "/transcriptions/{job_id}/segments/{index}/correction",
    response_model=Job,
    responses=CORRECTABLE,
    summary="Revert a segment to the model's text and word timings",
)
def revert_segment(corrections: CorrectionsDep, jobs: JobsDep, job_id: JobId, index: SegmentIndex) -> Job:
    try:
        corrections.revert(job_id, index)
    except NotCorrectable as error:
        raise HTTPException(error.status, str(error)) from error
    return describe(jobs, job_id)


# -- files ----------------------------------------------------------------------------------------
def file_response(transcript: Transcript, format: formats.Format, stem: str) -> Response:
    return Response(
        formats.render(transcript, format),
        media_type=formats.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{format.value}"'},
    )


FormatParam = Annotated[formats.Format, Path(description="txt, srt, vtt, words.vtt (a timestamp per word) or json")]
FILES = {200: {"content": {m.split(";")[0]: {} for m in formats.MEDIA_TYPES.values()}}}


@router.get(
    "/transcriptions/{job_id}/export/{format}",
    response_class=Response,
    responses={**FILES, **NOT_FOUND, **CONFLICT},
    summary="A stored transcript, as corrected, as txt, srt, vtt, words.vtt or json",
)
def export_stored(jobs: JobsDep, job_id: JobId, format: FormatParam) -> Response:
    job = stored(jobs, job_id)
    if job.transcript is None:
        raise HTTPException(409, f"This transcription is {job.status.value}: only a finished one has a transcript.")
    return file_response(job.transcript, format, "transcript")


@router.post(
    "/exports/{format}",
    response_class=Response,
    responses=FILES,
    summary="Render a transcript as txt, srt, vtt, words.vtt or json",
)
def export_transcript(transcript: TranscriptExport, format: FormatParam) -> Response:
    segments = [
        Segment(s.start, s.end, s.text, tuple(Word(**w.model_dump()) for w in s.words), s.original, s.speaker)
        for s in transcript.segments
    ]
    document = Transcript(
        transcript.text, transcript.language, transcript.duration, segments, model="", speakers=transcript.speakers
    )
    return file_response(document, format, "transcript")
