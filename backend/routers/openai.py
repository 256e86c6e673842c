"""The OpenAI audio API (``/v1``), so the OpenAI SDKs and tools that speak it can use Hush."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, UploadFile
from fastapi.responses import PlainTextResponse

from backend import formats
from backend.dependencies import ModelsDep, UploadDep
from backend.routers.transcriptions import PROBLEMS, Transcriber, TranscriberDep, blank_to_none
from backend.schemas import (
    OpenAIModel,
    OpenAIModelList,
    OpenAISegment,
    OpenAITranscription,
    OpenAIVerboseTranscription,
)
from backend.transcript import Options, Task

router = APIRouter(prefix="/v1", tags=["openai"])

ResponseFormat = Literal["json", "text", "srt", "vtt", "verbose_json"]
TEXT_FORMATS = {"text": formats.Format.TXT, "srt": formats.Format.SRT, "vtt": formats.Format.VTT}
RESPONSES = {
    **PROBLEMS,
    200: {
        "model": OpenAITranscription | OpenAIVerboseTranscription,
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
) -> OpenAITranscription | OpenAIVerboseTranscription | PlainTextResponse:
    # OpenAI's semantics: temperature 0 means "greedy, hotter only when the fallback asks for it".
    options = Options(blank_to_none(language), task, prompt, temperature or None)
    _, transcript = await transcribe(upload, options)
    if response_format in TEXT_FORMATS:
        fmt = TEXT_FORMATS[response_format]
        return PlainTextResponse(formats.render(transcript, fmt), media_type=formats.MEDIA_TYPES[fmt])
    if response_format == "verbose_json":
        return OpenAIVerboseTranscription(
            task=task,
            language=language_name(transcript.language),
            duration=round(transcript.duration, 3),
            text=transcript.text,
            segments=[
                OpenAISegment(id=i, start=s.start, end=s.end, text=s.text) for i, s in enumerate(transcript.segments)
            ],
        )
    return OpenAITranscription(text=transcript.text)


Model = Annotated[str, Form(description="Accepted for compatibility; Hush uses its loaded model.")]
Prompt = Annotated[str | None, Form()]
Format = Annotated[ResponseFormat, Form()]
Temperature = Annotated[float, Form(ge=0, le=1)]


@router.post("/audio/transcriptions", responses=RESPONSES, summary="OpenAI-compatible transcription")
async def transcriptions(
    transcribe: TranscriberDep,
    upload: UploadDep,
    model: Model = "whisper-1",
    language: Annotated[str | None, Form()] = None,
    prompt: Prompt = None,
    response_format: Format = "json",
    temperature: Temperature = 0.0,
):
    return await respond(transcribe, upload, "transcribe", language, prompt, response_format, temperature)


@router.post("/audio/translations", responses=RESPONSES, summary="OpenAI-compatible translation into English")
async def translations(
    transcribe: TranscriberDep,
    upload: UploadDep,
    model: Model = "whisper-1",
    prompt: Prompt = None,
    response_format: Format = "json",
    temperature: Temperature = 0.0,
):
    return await respond(transcribe, upload, "translate", None, prompt, response_format, temperature)


@router.get("/models", response_model=OpenAIModelList, summary="The model Hush serves")
def list_models(models: ModelsDep) -> OpenAIModelList:
    return OpenAIModelList(data=[OpenAIModel(id=models.model_id)])
