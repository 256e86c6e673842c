"""What the routes get injected: settings, the engine, and an uploaded file decoded to audio."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

import numpy as np
from fastapi import Depends, File, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from backend import audio
from backend.engine import Engine
from backend.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


@dataclass(frozen=True)
class ReceivedAudio:
    samples: np.ndarray
    seconds_to_decode: float


def describe_upload(upload: UploadFile) -> str:
    """How an upload is named in messages: its file name, size and declared type."""
    name = (upload.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:80] or "upload"
    size = upload.size or 0
    amount = (
        f"{size} bytes" if size < 10_000 else f"{size / 1024:.0f} KB" if size < 10_000_000 else f"{size / 2**20:.0f} MB"
    )
    kind = f", {upload.content_type}" if upload.content_type else ""
    return f"'{name}' ({amount}{kind})"


async def received_audio(
    file: Annotated[UploadFile, File(description="Audio or video file: webm, ogg, wav, mp3, m4a, flac, mp4, …")],
) -> ReceivedAudio:
    """Decode the upload, which Starlette has already streamed to a temporary file."""
    if not file.size:
        raise audio.AudioError(f"The upload {describe_upload(file)} is empty: no audio data was received.")
    started = time.perf_counter()
    samples = await run_in_threadpool(audio.decode, file.file, describe_upload(file))
    return ReceivedAudio(samples, time.perf_counter() - started)


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
AudioDep = Annotated[ReceivedAudio, Depends(received_audio)]
