"""What the routes get injected: settings, the model manager, the job queue, corrections, a non-empty upload,
and the transcriber that stores an upload as a job and awaits its transcript."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future
from typing import Annotated, Protocol

from fastapi import Depends, File, HTTPException, Request, UploadFile
from fastapi.requests import HTTPConnection
from starlette.concurrency import run_in_threadpool

from backend import audio
from backend.engine.manager import ModelManager
from backend.history.corrections import Corrections
from backend.history.jobs import Jobs
from backend.history.speakers import Speakers
from backend.history.store import Job as StoredJob
from backend.settings import Settings
from backend.transcript import SPEAKERS_OFF, Options, Segment, Transcript
from backend.web.schemas import (
    Delivery,
    DesktopChange,
    DesktopPreferences,
    DictationAction,
    DictationProgress,
    DictationState,
)
from backend.web.served_by import served_by


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_models(connection: HTTPConnection) -> ModelManager:
    """For requests and WebSockets (live transcription) alike."""
    return connection.app.state.models


def model_ready(models: Annotated[ModelManager, Depends(get_models)]) -> None:
    """A 503 (with Retry-After) while the model loads, is missing or broke: before an upload is stored for nothing."""
    models.engine()


def describe_upload(upload: UploadFile) -> str:
    """How an upload is named in messages: its file name, size and declared type."""
    name = (upload.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:80] or "upload"
    size = upload.size or 0
    amount = (
        f"{size} bytes" if size < 10_000 else f"{size / 1024:.0f} KB" if size < 10_000_000 else f"{size / 2**20:.0f} MB"
    )
    kind = f", {upload.content_type}" if upload.content_type else ""
    return f"'{name}' ({amount}{kind})"


def non_empty_upload(
    file: Annotated[UploadFile, File(description="Audio or video file: webm, ogg, wav, mp3, m4a, flac, mp4, …")],
) -> UploadFile:
    """The upload, which Starlette has already streamed to a temporary file; empty ones are refused unstored."""
    if not file.size:
        raise audio.AudioError(f"The upload {describe_upload(file)} is empty: no audio data was received.")
    return file


def get_jobs(request: Request) -> Jobs:
    return request.app.state.jobs


def get_corrections(request: Request) -> Corrections:
    return request.app.state.corrections


def get_speakers(request: Request) -> Speakers:
    return request.app.state.speakers


def speakers_option(value: str | None) -> int | str:
    """A form's ``speakers``: ``off`` (or nothing), ``auto``, or a number of speakers."""
    cleaned = (value or SPEAKERS_OFF).strip().lower() or SPEAKERS_OFF
    return int(cleaned) if cleaned.isdigit() else cleaned


def blank_to_none(value: str | None) -> str | None:
    """Forms send ``""`` (or ``auto``) for "let the model decide"."""
    return None if value is None or value.strip().lower() in ("", "auto") else value


SettingsDep = Annotated[Settings, Depends(get_settings)]
ModelsDep = Annotated[ModelManager, Depends(get_models)]
UploadDep = Annotated[UploadFile, Depends(non_empty_upload)]
JobsDep = Annotated[Jobs, Depends(get_jobs)]
CorrectionsDep = Annotated[Corrections, Depends(get_corrections)]
SpeakersDep = Annotated[Speakers, Depends(get_speakers)]
#: Resolves only while the model is ready (a 503 with Retry-After otherwise).
ReadyDep = Annotated[None, Depends(model_ready)]


class Transcriber:
    """Runs a transcription for a route: stored as a job first, queued on the engine's
    worker, awaited without blocking the server. The job belongs to the history, not to
    the request: a client that disconnects does not cancel it, it finishes and is kept."""

    def __init__(self, jobs: JobsDep, ready: ReadyDep, request: Request) -> None:
        self.jobs = jobs
        self.request = request

    async def queue(
        self, upload: UploadFile, options: Options, on_segments: Callable[[list[Segment]], None] | None = None
    ) -> tuple[StoredJob, Future[Transcript]]:
        """Store and queue the upload; ``on_segments`` hears each window's segments as they are decoded."""
        job = await run_in_threadpool(self.jobs.add, upload.file, upload.filename, options)
        future = await run_in_threadpool(self.jobs.start, job, describe_upload(upload), on_segments)
        return job, future

    async def __call__(self, upload: UploadFile, options: Options) -> tuple[str, Transcript]:
        job, future = await self.queue(upload, options)
        transcript = await asyncio.shield(asyncio.wrap_future(future))
        served_by(self.request.scope, transcript.served_by)
        return job.id, transcript


TranscriberDep = Annotated[Transcriber, Depends()]


class Desktop(Protocol):
    """What the desktop launcher lets the server do with its window (``desktop/controls.py``).

    The server has one only inside the window app; ``python -m backend`` has none."""

    def show(self) -> None:
        """Bring the window to the front (shown again if it was hidden, restored if minimised)."""

    def quit(self) -> None:
        """Close the window and stop Hush, the way the tray's Quit does."""

    def preferences(self) -> DesktopPreferences:
        """How Hush lives on this computer now."""

    def change(self, change: DesktopChange) -> DesktopPreferences:
        """Apply ``change`` (writing or removing desktop entries); ``OSError`` if a file cannot be written,
        ``ValueError`` (a sentence) for a dictation shortcut that is none."""

    def dictate(self, action: DictationAction) -> None:
        """Start, finish or cancel a dictation (the page records it; the window keeps out of the way)."""

    def progress(self, progress: DictationProgress) -> None:
        """The level and live text of the dictation being recorded, for its indicator (ignored after it ends)."""

    def dictation(self) -> DictationState:
        """Whether a dictation is being recorded, and what its indicator shows."""

    def deliver(self, text: str) -> Delivery:
        """Put ``text`` into the app that has the keyboard focus (typed, else left on the clipboard), blocking;
        an empty text delivers nothing (the dictation is over all the same)."""


def get_desktop(request: Request) -> Desktop:
    desktop = getattr(request.app.state, "desktop", None)
    if desktop is None:
        raise HTTPException(404, "Only the Hush app has desktop controls; this is a server started without a window.")
    return desktop


DesktopDep = Annotated[Desktop, Depends(get_desktop)]
