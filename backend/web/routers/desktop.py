"""``/api/desktop``: the window app's controls, for its page, its tray and a second launch of Hush.

A second ``hush`` finds the running one through its instance file (``desktop/instance.py``) and
asks it here to come to the front and to transcribe the files it was given; the page's settings
put Hush in the applications menu, keep it running when the window closes, or start it at login.
Dictation: the shortcut or ``hush dictate`` starts and ends it here; the page records it, tells
``/dictation/progress`` the level and live text for the indicator meanwhile, and sends the clip back
to ``/dictations``, which stores it, transcribes it and types the text into the app that has the focus.
``python -m backend`` has no window: these answer 404 there."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Response
from starlette.concurrency import run_in_threadpool

from backend.history.store import Status
from backend.transcript import Options
from backend.web.dependencies import DesktopDep, JobsDep, ReadyDep, UploadDep, describe_upload
from backend.web.schemas import (
    UPLOAD_PROBLEMS,
    Delivery,
    DesktopChange,
    DesktopPreferences,
    Dictated,
    DictationAction,
    DictationProgress,
    DictationState,
    OpenedFiles,
    OpenFiles,
    Problem,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/desktop", tags=["desktop"])

#: How a dictation is transcribed: language detected, greedy, no word timings (the text is typed, not shown).
DICTATION = Options(words=False)
NO_WINDOW = {404: {"model": Problem, "description": "A server without a window"}}


@router.get("", response_model=DesktopPreferences, responses=NO_WINDOW, summary="How Hush lives on this computer")
def preferences(desktop: DesktopDep) -> DesktopPreferences:
    return desktop.preferences()


@router.patch(
    "",
    response_model=DesktopPreferences,
    responses={**NO_WINDOW, 400: {"model": Problem, "description": "A dictation shortcut that is none"}},
    summary="Change how Hush lives here",
)
def change(desktop: DesktopDep, change: DesktopChange) -> DesktopPreferences:
    try:
        return desktop.change(change)
    except ValueError as error:
        raise HTTPException(400, str(error)) from error
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        raise HTTPException(500, f"Hush could not write{where}: {error.strerror or error}.") from error


@router.post("/show", status_code=204, responses=NO_WINDOW, summary="Bring the window to the front")
def show(desktop: DesktopDep) -> Response:
    desktop.show()
    return Response(status_code=204)


@router.post("/quit", status_code=202, responses=NO_WINDOW, summary="Close the window and stop Hush")
def quit_hush(desktop: DesktopDep) -> Response:
    desktop.quit()
    return Response(status_code=202)


@router.post(
    "/open",
    response_model=OpenedFiles,
    responses={**NO_WINDOW, 400: {"model": Problem, "description": "A path that is not a readable file"}},
    summary="Transcribe files on this computer (opened with Hush)",
)
async def open_files(desktop: DesktopDep, jobs: JobsDep, _ready: ReadyDep, body: OpenFiles) -> OpenedFiles:
    """Each file is stored and queued as if imported in the page, with the default options; all
    are checked before any is queued, so a typo does not leave half of them queued."""
    paths = [Path(p) for p in body.paths]
    for path in paths:
        if not path.is_absolute() or not path.is_file():
            raise HTTPException(400, f"{path} is not a file Hush can read: give the full path of an audio or video.")
    ids = []
    for path in paths:
        with path.open("rb") as source:
            job = await run_in_threadpool(jobs.add, source, path.name, Options())
        try:
            await run_in_threadpool(jobs.start, job, f"'{path.name}'")
        except Exception as error:  # the job is kept as failed with its reason; the other files go on
            log.warning("could not transcribe %s: %s", path, error)
        ids.append(job.id)
    desktop.show()
    return OpenedFiles(ids=ids)


@router.get(
    "/dictation",
    response_model=DictationState,
    responses=NO_WINDOW,
    summary="Whether a dictation is being recorded, and what its indicator shows",
)
def dictation_state(desktop: DesktopDep) -> DictationState:
    return desktop.dictation()


@router.put(
    "/dictation/progress",
    status_code=204,
    responses=NO_WINDOW,
    summary="The recording dictation's level and live text, for its indicator (the page sends them)",
)
def progress(desktop: DesktopDep, body: DictationProgress) -> Response:
    desktop.progress(body)
    return Response(status_code=204)


@router.post(
    "/dictation/{action}",
    status_code=204,
    responses={**NO_WINDOW, 409: {"model": Problem, "description": "This Hush cannot record a dictation"}},
    summary="Start, finish or cancel a dictation (what the shortcut and `hush dictate` do)",
)
def dictate(desktop: DesktopDep, action: DictationAction) -> Response:
    try:
        desktop.dictate(action)
    except ValueError as error:
        raise HTTPException(409, str(error)) from error
    return Response(status_code=204)


@router.post(
    "/dictations",
    response_model=Dictated,
    responses={**NO_WINDOW, **UPLOAD_PROBLEMS},
    summary="A dictation's recording: stored, transcribed in one pass, typed into the focused app",
)
async def dictation(
    desktop: DesktopDep,
    jobs: JobsDep,
    _ready: ReadyDep,
    upload: UploadDep,
    cancelled: Annotated[bool, Form(description="Escape was pressed: keep the recording, type nothing.")] = False,
) -> Dictated:
    """Stored first like every recording, so nothing said is lost if typing fails; a clip of one
    window or less goes through the single-window path, without word timings (not shown anywhere
    the text is typed)."""
    job = await run_in_threadpool(jobs.add, upload.file, upload.filename, DICTATION, True)
    if cancelled:
        await run_in_threadpool(jobs.store.set_status, job.id, Status.CANCELLED, "The dictation was cancelled.")
        return Dictated(id=job.id, status=Status.CANCELLED, delivery=Delivery(method="nothing"))
    future = await run_in_threadpool(jobs.start, job, describe_upload(upload))
    transcript = await asyncio.shield(asyncio.wrap_future(future))
    text = transcript.text.strip()
    delivery = await run_in_threadpool(desktop.deliver, text)
    return Dictated(id=job.id, status=Status.DONE, text=text, delivery=delivery)


@router.post(
    "/dictations/{job_id}/type",
    response_model=Delivery,
    responses={**NO_WINDOW, 404: {"model": Problem, "description": "No such finished transcription"}},
    summary="Type a stored transcript again into the focused app",
)
async def type_again(desktop: DesktopDep, jobs: JobsDep, job_id: str) -> Delivery:
    job = jobs.store.get(job_id)
    if job is None or job.transcript is None:
        raise HTTPException(404, "There is no finished transcription with this id; it may have been deleted.")
    return await run_in_threadpool(desktop.deliver, job.transcript.text.strip())
