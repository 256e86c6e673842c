"""Request and response bodies of the HTTP API (pydantic models; the OpenAPI schema comes from here)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from backend.history.store import Status
from backend.status import ModelState
from backend.transcript import Transcript


class Problem(BaseModel):
    """Every error: one sentence a person can act on."""

    detail: str = Field(examples=["The upload is empty: no bytes were received."])


class ModelInfo(BaseModel):
    id: str
    state: ModelState
    detail: str
    languages: list[str] = Field(default_factory=list, description="Language codes, once the model is ready.")


class WorkerInfo(BaseModel):
    """A copy of the model doing the work elsewhere: a cluster's replica."""

    id: str
    state: str = Field(description="starting, ready, or what the cluster says of it")
    detail: str = ""


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    model: ModelInfo
    version: str
    max_upload_bytes: int = Field(description="Uploads larger than this are refused with a 413.")
    engine: str = Field("This computer", description="Where transcription runs, in words (GET /api/engines).")
    remote: bool = Field(False, description="Audio leaves this computer: a server transcribes it.")
    desktop: bool = Field(False, description="The window app's controls (/api/desktop) are here.")
    workers: list[WorkerInfo] = Field(
        default_factory=list, description="A cluster's replicas (hush-serve), each with its state; empty otherwise."
    )


Seconds = Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)]
#: A length in seconds as the API gives it: to the millisecond.
Duration = Annotated[float, AfterValidator(lambda seconds: round(seconds, 3))]

#: What a route that takes an upload may answer besides its result.
UPLOAD_PROBLEMS = {
    400: {"model": Problem, "description": "Empty, undecodable or audio-less input"},
    408: {"model": Problem, "description": "The upload stalled"},
    413: {"model": Problem, "description": "Upload over the size or duration limit"},
    422: {"model": Problem, "description": "Invalid parameters"},
    503: {"model": Problem, "description": "Model loading or missing (see Retry-After)"},
}


class Word(BaseModel):
    """Read from ``backend.transcript.Word`` as it is (``from_attributes``): no field copied by hand."""

    model_config = ConfigDict(from_attributes=True)

    start: Seconds = Field(description="Seconds from the start of the audio.")
    end: Seconds
    word: str = Field(description="The word with the punctuation attached to it, without spaces around it.")
    probability: float = Field(1.0, ge=0, le=1, description="How sure the model was of this word (0..1).")


class Segment(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    start: Seconds = Field(description="Seconds from the start of the audio.")
    end: Seconds
    text: str = Field(description="The text, as corrected where a person corrected it.")
    words: list[Word] = Field(
        default_factory=list,
        description="Every word placed in time, in order, never overlapping. Empty where the model has no "
        "alignment heads (or for a translation), and for a corrected segment whose words could not be "
        "placed again.",
    )
    original: str | None = Field(None, description="The model's text, where a person corrected this segment.")
    speaker: int | None = Field(
        None, description="Who speaks it (a number of `speakers`), where speakers were labelled; its words are theirs."
    )
    original_speaker: int | None = Field(
        None, description="The speaker the labeller heard, where a person gave this segment to another one."
    )


class SegmentCorrection(BaseModel):
    """A person's text for one segment."""

    text: str = Field(max_length=2000, examples=["Seven green apples."])

    @field_validator("text")
    @classmethod
    def has_words(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the correction is empty: type the segment's words, or revert it to the model's text")
        return text


SPEAKERS_FIELD = Field(
    default_factory=dict,
    description="The name of each speaker who speaks in it, by number (1, 2, … by first appearance): "
    "'Speaker N' unless a person named them. Empty where speakers were not labelled.",
)


class Transcription(BaseModel):
    id: str
    text: str
    language: str | None = Field(description="Language code, detected unless one was given.")
    duration: Duration = Field(description="Length of the decoded audio in seconds.")
    segments: list[Segment]
    speakers: dict[int, str] = SPEAKERS_FIELD
    model: str
    timings: dict[str, float] = Field(description="Seconds spent per stage (decode, queued, generate, …).")

    @classmethod
    def of(cls, job_id: str, transcript: Transcript) -> Transcription:
        return cls.model_validate({"id": job_id, **vars(transcript), "speakers": transcript.speaker_names()})


class JobSummary(BaseModel):
    """A stored transcription as the history lists it."""

    id: str
    created: datetime
    filename: str = Field(description="The uploaded file's name, for showing only.")
    status: Status = Field(description="queued, running, done, failed, cancelled, or interrupted (Hush stopped).")
    error: str | None = Field(None, description="Why it failed, was cancelled or interrupted.")
    progress: float = Field(0.0, description="Fraction of the audio transcribed so far (0..1).")
    position: int | None = Field(None, description="Jobs ahead of this one in the queue; null when not queued.")
    stage: str | None = Field(
        None,
        description="While it runs, what the engine is doing where it says more than the progress "
        "(a remote engine: how much audio is sent to the server and how much is back).",
    )
    text: str = ""
    language: str | None = None
    duration: Duration | None = Field(None, description="Length of the audio in seconds, once transcribed.")
    dictation: bool = Field(False, description="Spoken into another app with the dictation shortcut.")


class Job(JobSummary):
    """One stored transcription with its segments, model and timings."""

    segments: list[Segment] = Field(
        default_factory=list, description="While it runs: the segments decoded so far, window by window."
    )
    speakers: dict[int, str] = SPEAKERS_FIELD
    merged: dict[int, int] = Field(
        default_factory=dict, description="Speakers a person merged into another (by number), each undoable."
    )
    model: str | None = None
    timings: dict[str, float] = Field(default_factory=dict)


class JobPage(BaseModel):
    items: list[JobSummary]
    total: int = Field(description="How many transcriptions match, over all pages.")
    offset: int
    limit: int


class TranscriptExport(BaseModel):
    """A transcript to render as a file (what ``POST /api/transcriptions`` returned)."""

    text: str
    language: str | None = None
    duration: Seconds = 0.0
    segments: list[Segment] = Field(default_factory=list)
    speakers: dict[int, str] = SPEAKERS_FIELD


SpeakerNumber = Annotated[int, Field(ge=1, le=99)]


class SpeakerName(BaseModel):
    """A person's name for a speaker; empty: "Speaker N" again."""

    name: str = Field(max_length=80, examples=["Anna"])


class SpeakerMerge(BaseModel):
    """The speaker who takes over every segment of the one in the path."""

    into: SpeakerNumber


class SegmentSpeaker(BaseModel):
    """Who speaks a segment: a speaker of the transcript, or a new number for a new speaker."""

    speaker: SpeakerNumber


class SpeakerLabelling(BaseModel):
    """How to label a stored transcript's speakers."""

    speakers: Literal["auto"] | Annotated[int, Field(ge=1, le=20)] = Field(
        "auto", description="auto (as many as the voices show), or the number of speakers."
    )
    min_speakers: int = Field(1, ge=1, le=20)
    max_speakers: int = Field(8, ge=1, le=20)


class LiveMessage(BaseModel):
    """What ``/api/live`` sends: ``update`` while the audio comes, ``paused`` when no live text can be made
    now (the audio is kept), ``done`` after the page's ``stop``."""

    type: Literal["update", "paused", "done"]
    confirmed: str | None = Field(None, description="Every confirmed word so far; it only ever grows.")
    tentative: str | None = Field(None, description="The words after it that may still change.")
    seconds: float | None = Field(None, description="Audio received so far.")
    language: str | None = None
    detail: str | None = Field(None, description="Why live text is paused, in a sentence.")


# -- OpenAI-compatible shapes ------------------------------------------------------------
class OpenAITranscription(BaseModel):
    text: str


class OpenAISegment(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seek: int = 0
    start: float
    end: float
    text: str
    speaker: str | None = Field(None, description="Who speaks it, where speakers were asked for (`speakers`).")


class OpenAIDiarizedSegment(BaseModel):
    """A segment of OpenAI's ``diarized_json``: who speaks from when to when."""

    type: Literal["transcript.text.segment"] = "transcript.text.segment"
    id: str
    start: float
    end: float
    text: str
    speaker: str


class OpenAIDiarizedTranscription(BaseModel):
    """OpenAI's ``diarized_json`` (as its diarizing transcription model answers)."""

    task: Literal["transcribe"] = "transcribe"
    duration: Duration
    text: str
    segments: list[OpenAIDiarizedSegment]


class OpenAIWord(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    word: str
    start: float
    end: float


class OpenAIVerboseTranscription(BaseModel):
    """``segments`` and ``words`` are there as ``timestamp_granularities[]`` asked (segments by default)."""

    task: Literal["transcribe", "translate"]
    language: str | None
    duration: Duration
    text: str
    segments: list[OpenAISegment] | None = None
    words: list[OpenAIWord] | None = None


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
    found: bool = Field(
        False, description="Found on this computer (faster-whisper or openai-whisper): converted once when first used."
    )


class LocalModel(BaseModel):
    """A model already on this computer, to use instead of downloading one."""

    path: str = Field(
        min_length=1,
        max_length=4096,
        description="A transformers or faster-whisper model folder, or an openai-whisper .pt file.",
        examples=["~/.cache/whisper/base.pt"],
    )


class ModelList(BaseModel):
    active: str
    models: list[ModelEntry]


# -- engines ----------------------------------------------------------------------------------
class ServerInfo(BaseModel):
    """A configured server as the API shows it: never its key, only whether it has one."""

    id: str
    url: str = Field(description="Base URL as the OpenAI SDK takes it, e.g. http://gpu-box:8000/v1.")
    model: str = Field(description="The model name sent with each request (whisper-1 where the server has one).")
    concurrency: int = Field(description="How many requests the server is given at once.")
    allow_unencrypted: bool = Field(description="Plain http to another computer was allowed for this server.")
    has_key: bool = Field(description="An API key is stored for this server (it is never shown).")


class Engines(BaseModel):
    kind: Literal["local", "servers"] = Field(description="local: this computer; servers: the servers below.")
    servers: list[ServerInfo]
    where: str = Field(description="Where work goes, in words (the header pill).")
    from_environment: bool = Field(description="HUSH_ENGINE set this launch's engine: the app cannot change it.")
    live: bool = Field(description="Live text is available with this engine.")
    live_detail: str = Field("", description="Why live text is off, when it is.")


class ServerSettings(BaseModel):
    """A server as the engines panel sends it."""

    id: str | None = Field(None, max_length=64, description="A stored server's id: its key is kept when key is null.")
    url: str = Field(min_length=1, max_length=2000)
    model: str = Field("whisper-1", max_length=200)
    concurrency: int = Field(1, ge=1, le=32)
    allow_unencrypted: bool = False
    key: SecretStr | None = Field(
        None, description="The API key; null keeps the stored one (for a known id), empty removes it."
    )


class EngineSettings(BaseModel):
    kind: Literal["local", "servers"]
    servers: list[ServerSettings] = Field(default_factory=list, max_length=32)


class ServerTest(BaseModel):
    """What one server answered to the Test button."""

    ok: bool
    detail: str = Field(description="What worked, or a sentence saying what is wrong.")
    models: list[str] | None = Field(None, description="The server's GET /models list (null where it has none).")
    seconds: float | None = Field(None, description="Round-trip time of the test transcription.")
    text: str | None = Field(None, description="What the server heard in the test clip.")
    timed_words: bool | None = Field(None, description="Whether the server places words in time.")


class DesktopPreferences(BaseModel):
    """How the desktop app lives on this computer (only the window app has these)."""

    menu_entry: bool = Field(description="Hush is in the applications menu (a desktop entry this Hush wrote).")
    keep_running: bool = Field(description="Closing the window keeps Hush running (in the tray, where there is one).")
    start_at_login: bool = Field(description="Hush starts, hidden, when the user logs in.")
    tray: bool = Field(description="A tray icon is shown (the desktop has a system tray).")
    can_install: bool = Field(description="This platform has desktop entries Hush can write (Linux, BSD).")
    dictation_shortcut: str = Field(description="The global dictation shortcut, e.g. ctrl+shift+space.")
    dictation_paste: bool = Field(
        False, description="Dictation pastes the text (clipboard restored afterwards) instead of typing it."
    )
    dictation_trailing_space: bool = Field(False, description="A space is typed after each dictation's text.")
    dictation_keep_on_clipboard: bool = Field(False, description="The dictated text also stays on the clipboard.")
    dictation_shortcut_note: str | None = Field(
        None, description="Why the shortcut is not heard here (e.g. Wayland) and what to do instead."
    )


class DesktopChange(BaseModel):
    """What to change; a field left out stays as it is."""

    menu_entry: bool | None = None
    keep_running: bool | None = None
    start_at_login: bool | None = None
    dictation_shortcut: str | None = Field(
        None, max_length=60, description="Modifiers and one key joined by +, e.g. ctrl+alt+d."
    )
    dictation_paste: bool | None = None
    dictation_trailing_space: bool | None = None
    dictation_keep_on_clipboard: bool | None = None


class OpenFiles(BaseModel):
    """Files on this computer to transcribe, e.g. opened with Hush from the file manager."""

    paths: list[str] = Field(min_length=1, max_length=100, description="Absolute paths of audio or video files.")


class OpenedFiles(BaseModel):
    ids: list[str] = Field(description="The queued transcriptions' ids, one per file, in the order given.")


DictationAction = Literal["toggle", "start", "stop", "cancel"]


class Delivery(BaseModel):
    """How a dictation's text reached the app the user is typing in."""

    method: Literal["typed", "pasted", "clipboard", "nothing"] = Field(
        description="typed (keystrokes into the focused app), pasted (through the clipboard, restored afterwards), "
        "clipboard (left there to paste), nothing (no text)."
    )
    message: str | None = Field(None, description="A sentence for the user when the text could not be typed.")


class DictationProgress(BaseModel):
    """What the page hears while it records a dictation, for the indicator over the app being typed in."""

    level: float = Field(ge=0, le=1, description="The microphone's level since the last message, 0 (silence) to 1.")
    text: str = Field("", max_length=4000, description="The live text so far (confirmed and tentative words).")


class IndicatorState(BaseModel):
    """What the dictation indicator shows now."""

    text: str | None = Field(description="Its main line (live text, Listening…, Typing… or a problem); null: hidden.")
    level: float | None = Field(None, description="The level its meter shows last (null: no meter, not listening).")


class DictationState(BaseModel):
    dictating: bool = Field(description="A dictation is being recorded (started and not yet finished or cancelled).")
    indicator: IndicatorState


class Dictated(BaseModel):
    """A finished (or cancelled) dictation: stored in the history first, then typed."""

    id: str = Field(description="Its transcription's id in the history.")
    status: Status
    text: str = ""
    delivery: Delivery
