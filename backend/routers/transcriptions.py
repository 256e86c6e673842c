"""``/api/transcriptions`` (audio in, transcript out) and ``/api/exports`` (transcript in, file out)."""

from __future__ import annotations

import asyncio
import threading
from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Depends, Form, Path, Request, Response

from backend import formats
from backend.dependencies import AudioDep, EngineDep, ReceivedAudio
from backend.engine import Engine, ModelNotReady, ModelState, Options, Segment, Task, Transcript
from backend.schemas import Problem, TranscriptExport, Transcription

router = APIRouter(prefix="/api", tags=["transcriptions"])

PROBLEMS = {
    400: {"model": Problem, "description": "Empty, undecodable or silent-less input"},
    413: {"model": Problem, "description": "Upload over the size limit"},
    422: {"model": Problem, "description": "Invalid parameters"},
    503: {"model": Problem, "description": "Model loading or missing (see Retry-After)"},
}


def ready_engine(engine: EngineDep) -> Engine:
    """The engine, or a 503 before the upload is decoded for nothing."""
    if engine.status.state is not ModelState.READY:
        raise ModelNotReady(engine.status)
    return engine


class Transcriber:
    """Runs a transcription for a route: queued on the engine's worker, awaited without
    blocking the server, and cancelled if the client goes away (so an abandoned upload
    does not hold up the queue)."""

    def __init__(self, request: Request, engine: Annotated[Engine, Depends(ready_engine)]) -> None:
        self.request = request
        self.engine = engine

    async def __call__(self, received: ReceivedAudio, options: Options) -> Transcript:
        cancel = threading.Event()
        job = asyncio.wrap_future(self.engine.submit(received.samples, options, cancel=cancel))
        try:
            while not (await asyncio.wait({job}, timeout=DISCONNECT_POLL_SECONDS))[0]:
                if await self.request.is_disconnected():
                    cancel.set()
            transcript = job.result()
        except asyncio.CancelledError:
            cancel.set()
            raise
        transcript.timings = {"decode": round(received.seconds_to_decode, 4), **transcript.timings}
        return transcript


DISCONNECT_POLL_SECONDS = 0.5
TranscriberDep = Annotated[Transcriber, Depends()]


def blank_to_none(value: str | None) -> str | None:
    """Forms send ``""`` (or ``auto``) for "let the model decide"."""
    return None if value is None or value.strip().lower() in ("", "auto") else value


@router.post(
    "/transcriptions", response_model=Transcription, responses=PROBLEMS, summary="Transcribe an audio or video file"
)
async def create_transcription(
    transcribe: TranscriberDep,
    received: AudioDep,
    language: Annotated[str | None, Form(description="Language code or name; empty or 'auto' detects it.")] = None,
    task: Annotated[Task, Form(description="transcribe, or translate into English.")] = "transcribe",
    prompt: Annotated[str | None, Form(description="Words or spellings to steer the transcript.")] = None,
    temperature: Annotated[
        float | None, Form(ge=0, le=1, description="Fixed sampling temperature; unset uses Whisper's fallback.")
    ] = None,
    beam_size: Annotated[int, Form(ge=1, le=10, description="1 is greedy (fastest); more beams, more accuracy.")] = 1,
) -> Transcription:
    options = Options(blank_to_none(language), task, prompt, temperature, beam_size)
    transcript = await transcribe(received, options)
    return Transcription(id=uuid4().hex, **to_fields(transcript))


def to_fields(transcript: Transcript) -> dict:
    return {
        "text": transcript.text,
        "language": transcript.language,
        "duration": round(transcript.duration, 3),
        "segments": [{"start": s.start, "end": s.end, "text": s.text} for s in transcript.segments],
        "model": transcript.model,
        "timings": transcript.timings,
    }


@router.post(
    "/exports/{format}",
    response_class=Response,
    responses={200: {"content": {m.split(";")[0]: {} for m in formats.MEDIA_TYPES.values()}}},
    summary="Render a transcript as txt, srt, vtt or json",
)
def export_transcript(
    transcript: TranscriptExport, format: Annotated[formats.Format, Path(description="txt, srt, vtt or json")]
) -> Response:
    body = formats.render(
        Transcript(
            text=transcript.text,
            language=transcript.language,
            duration=transcript.duration,
            segments=[Segment(s.start, s.end, s.text) for s in transcript.segments],
            model="",
        ),
        format,
    )
    return Response(
        body,
        media_type=formats.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="transcript.{format.value}"'},
    )
