"""Request and response bodies of the HTTP API (pydantic models; the OpenAPI schema comes from here)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from backend.engine import ModelState


class Problem(BaseModel):
    """Every error: one sentence a person can act on."""

    detail: str = Field(examples=["The upload is empty: no bytes were received."])


class ModelInfo(BaseModel):
    id: str
    state: ModelState
    detail: str
    languages: list[str] = Field(default_factory=list, description="Language codes, once the model is ready.")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    model: ModelInfo
    version: str
    max_upload_bytes: int = Field(description="Uploads larger than this are refused with a 413.")


class Segment(BaseModel):
    start: float = Field(description="Seconds from the start of the audio.")
    end: float
    text: str


class Transcription(BaseModel):
    id: str
    text: str
    language: str | None = Field(description="Language code, detected unless one was given.")
    duration: float = Field(description="Length of the decoded audio in seconds.")
    segments: list[Segment]
    model: str
    timings: dict[str, float] = Field(description="Seconds spent per stage (decode, queued, generate, …).")


class TranscriptExport(BaseModel):
    """A transcript to render as a file (what ``POST /api/transcriptions`` returned)."""

    text: str
    language: str | None = None
    duration: float = 0.0
    segments: list[Segment] = Field(default_factory=list)


# -- OpenAI-compatible shapes ------------------------------------------------------------
class OpenAITranscription(BaseModel):
    text: str


class OpenAISegment(BaseModel):
    id: int
    seek: int = 0
    start: float
    end: float
    text: str


class OpenAIVerboseTranscription(BaseModel):
    task: Literal["transcribe", "translate"]
    language: str | None
    duration: float
    text: str
    segments: list[OpenAISegment]


class OpenAIModel(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "hush"


class OpenAIModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[OpenAIModel]


# -- models ---------------------------------------------------------------------------------
class DownloadInfo(BaseModel):
    model_id: str
    state: Literal["downloading", "done", "failed"]
    bytes_done: int
    bytes_total: int = Field(description="0 until the hub has told the size.")
    percent: float
    bytes_per_second: float
    error: str | None = None


class ModelEntry(BaseModel):
    id: str = Field(description="Hugging Face id or local folder.")
    name: str
    size_bytes: int | None = Field(description="Download size of the weights, when known.")
    multilingual: bool | None = None
    note: str = ""
    installed: bool = Field(description="On this computer: usable without the internet.")
    active: bool
    download: DownloadInfo | None = None


class ModelList(BaseModel):
    active: str
    models: list[ModelEntry]
