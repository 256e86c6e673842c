"""The OpenAI audio API (``/v1``), so the OpenAI SDKs and tools that speak it can use Hush."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Form, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

from backend.history import formats
from backend.transcript import SPEAKERS_AUTO, SPEAKERS_OFF, Options, Segment, Task, Transcript
from backend.web.dependencies import ModelsDep, Transcriber, TranscriberDep, UploadDep, blank_to_none, speakers_option
from backend.web.schemas import (
    UPLOAD_PROBLEMS,
    OpenAIDiarizedSegment,
    OpenAIDiarizedTranscription,
    OpenAIModel,
    OpenAIModelList,
    OpenAISegment,
    OpenAITranscription,
    OpenAIVerboseTranscription,
    OpenAIWord,
)

router = APIRouter(prefix="/v1", tags=["openai"])

ResponseFormat = Literal["json", "text", "srt", "vtt", "verbose_json", "diarized_json"]
Granularity = Literal["word", "segment"]
TEXT_FORMATS = {"text": formats.Format.TXT, "srt": formats.Format.SRT, "vtt": formats.Format.VTT}
RESPONSES = {
    **UPLOAD_PROBLEMS,
    200: {
        "model": OpenAITranscription | OpenAIVerboseTranscription | OpenAIDiarizedTranscription,
        "content": {"text/plain": {}, "text/vtt": {}, "application/x-subrip": {}},
    },
}


def language_name(code: str | None) -> str | None:
    """OpenAI's ``verbose_json`` names the language (``english``), where Hush's API gives its code."""
    # Imported here: transformers takes seconds to import, and by now the engine has loaded it.
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    return LANGUAGES.get(code or "", code)


async def respond(
    transcribe: Transcriber,
    upload: UploadFile,
    task: Task,
    language: str | None,
    prompt: str | None,
    response_format: ResponseFormat,
    temperature: float,
    granularities: list[Granularity] | None,
    speakers: str | None = None,
) -> OpenAITranscription | OpenAIVerboseTranscription | OpenAIDiarizedTranscription | PlainTextResponse | JSONResponse:
    # OpenAI's semantics: temperature 0 means "greedy, hotter only when the fallback asks for it".
    labelling = speakers_option(speakers)
    if response_format == "diarized_json" and labelling == SPEAKERS_OFF:
        labelling = SPEAKERS_AUTO  # what the format is for
    options = Options(
        language=blank_to_none(language),
        task=task,
        prompt=prompt,
        temperature=temperature or None,
        speakers=labelling,
    )
    _, transcript = await transcribe(upload, options)
    if response_format == "diarized_json":
        return diarized(transcript)
    if response_format in TEXT_FORMATS:
        fmt = TEXT_FORMATS[response_format]
        return PlainTextResponse(formats.render(transcript, fmt), media_type=formats.MEDIA_TYPES[fmt])
    if response_format == "verbose_json":
        granularities = granularities or ["segment"]
        verbose = OpenAIVerboseTranscription(
            task=task, language=language_name(transcript.language), duration=transcript.duration, text=transcript.text
        )
        if "segment" in granularities:
            segments = enumerate(transcript.segments)
            said = transcript.labelled  # `speaker` only where speakers were asked for, as OpenAI's shape has none
            verbose.segments = [
                OpenAISegment.model_validate(
                    {"id": i, "start": s.start, "end": s.end, "text": s.text}
                    | ({"speaker": transcript.speaker_name(s.speaker)} if said else {})
                )
                for i, s in segments
            ]
        if "word" in granularities:
            verbose.words = [OpenAIWord.model_validate(w) for s in transcript.segments for w in s.words]
        # as OpenAI answers: the granularities not asked for are absent, not null
        return JSONResponse(verbose.model_dump(exclude_unset=True))
    return OpenAITranscription(text=transcript.text)


def diarized(transcript: Transcript) -> OpenAIDiarizedTranscription:
    """OpenAI's ``diarized_json``: the text, and who says each segment when."""
    segments = [
        OpenAIDiarizedSegment(
            id=f"seg_{i:03d}", start=s.start, end=s.end, text=s.text, speaker=transcript.speaker_name(s.speaker) or ""
        )
        for i, s in enumerate(transcript.segments)
    ]
    return OpenAIDiarizedTranscription(duration=transcript.duration, text=transcript.text, segments=segments)


def event(**fields: object) -> str:
    """One server-sent event as OpenAI's streaming transcriptions send them."""
    return f"data: {json.dumps(fields, ensure_ascii=False)}\n\n"


async def stream(transcribe: Transcriber, upload: UploadFile, options: Options) -> StreamingResponse:
    """``text/event-stream``: a ``transcript.text.delta`` per segment as soon as its window (or batch) is decoded,
    then ``transcript.text.done`` with the whole text (``error`` instead, if the transcription fails). The
    job is stored as any other: a client that goes away does not stop it."""
    loop = asyncio.get_running_loop()
    heard: asyncio.Queue[list[Segment]] = asyncio.Queue()
    _, future = await transcribe.queue(upload, options, lambda new: loop.call_soon_threadsafe(heard.put_nowait, new))
    finished = asyncio.wrap_future(future)

    async def events() -> AsyncIterator[str]:
        said = False
        while not (finished.done() and heard.empty()):
            waiting = asyncio.ensure_future(heard.get())
            await asyncio.wait({waiting, finished}, return_when=asyncio.FIRST_COMPLETED)
            if not waiting.done():
                waiting.cancel()
                continue
            for segment in waiting.result():
                yield event(type="transcript.text.delta", delta=f" {segment.text}" if said else segment.text)
                said = True
        try:
            transcript = finished.result()
        except Exception as error:  # the job is kept in the history, failed; the client hears why
            yield event(type="error", error={"message": str(error) or type(error).__name__})
            return
        yield event(type="transcript.text.done", text=transcript.text)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


Model = Annotated[str, Form(description="Accepted for compatibility; Hush uses its loaded model.")]
Prompt = Annotated[str | None, Form()]
Format = Annotated[ResponseFormat, Form()]
Temperature = Annotated[float, Form(ge=0, le=1)]
Speakers = Annotated[
    str | None,
    Form(
        description="Hush's own: label who speaks (auto, or how many speakers); verbose_json segments then carry "
        "`speaker`. diarized_json labels them whether asked or not (auto)."
    ),
]
Granularities = Annotated[
    list[Granularity] | None,
    Form(
        alias="timestamp_granularities[]",
        description="With verbose_json: word and/or segment timestamps (segment when not given). Words are "
        "there where the model has alignment heads (every published Whisper); otherwise the list is empty.",
    ),
]


@router.post("/audio/transcriptions", responses=RESPONSES, summary="OpenAI-compatible transcription")
async def transcriptions(
    transcribe: TranscriberDep,
    upload: UploadDep,
    model: Model = "whisper-1",
    language: Annotated[str | None, Form()] = None,
    prompt: Prompt = None,
    response_format: Format = "json",
    temperature: Temperature = 0.0,
    timestamp_granularities: Granularities = None,
    speakers: Speakers = None,
    stream_events: Annotated[
        bool,
        Form(
            alias="stream",
            description="true: answer text/event-stream, each window's text as soon as it is decoded "
            "(transcript.text.delta), then transcript.text.done; response_format is then ignored.",
        ),
    ] = False,
):
    if stream_events:
        options = Options(
            language=blank_to_none(language), task="transcribe", prompt=prompt, temperature=temperature or None
        )
        return await stream(transcribe, upload, options)
    return await respond(
        transcribe,
        upload,
        "transcribe",
        language,
        prompt,
        response_format,
        temperature,
        timestamp_granularities,
        speakers,
    )


@router.post("/audio/translations", responses=RESPONSES, summary="OpenAI-compatible translation into English")
async def translations(
    transcribe: TranscriberDep,
    upload: UploadDep,
    model: Model = "whisper-1",
    prompt: Prompt = None,
    response_format: Format = "json",
    temperature: Temperature = 0.0,
    timestamp_granularities: Granularities = None,
):
    return await respond(
        transcribe, upload, "translate", None, prompt, response_format, temperature, timestamp_granularities
    )


@router.get("/models", response_model=OpenAIModelList, summary="The model Hush serves")
def list_models(models: ModelsDep) -> OpenAIModelList:
    return OpenAIModelList(data=[OpenAIModel(id=models.model_id)])
