"""What the routes get injected: settings, the model manager, the job queue, corrections and a non-empty upload."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Request, UploadFile
from fastapi.requests import HTTPConnection

from backend import audio
from backend.engine.manager import ModelManager
from backend.history.corrections import Corrections
from backend.history.jobs import Jobs
from backend.settings import Settings


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


SettingsDep = Annotated[Settings, Depends(get_settings)]
ModelsDep = Annotated[ModelManager, Depends(get_models)]
UploadDep = Annotated[UploadFile, Depends(non_empty_upload)]
JobsDep = Annotated[Jobs, Depends(get_jobs)]
CorrectionsDep = Annotated[Corrections, Depends(get_corrections)]
