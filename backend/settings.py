"""All settings of the server in one typed object, overridable by ``HUSH_*`` variables."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Precision(StrEnum):
    """How the model's numbers are stored (``backend/engine/precision.py`` says what each costs and buys)."""

    AUTO = "auto"
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"
    INT8 = "int8"


class LongForm(StrEnum):
    """How audio longer than one window is decoded (``backend/engine/decoding.py`` and
    ``backend/engine/sequential.py`` say what each costs and buys): cut at its pauses and decoded
    several chunks at a time, or window after window; ``auto`` batches unless beam search is asked for."""

    AUTO = "auto"
    BATCHED = "batched"
    SEQUENTIAL = "sequential"


class Settings(BaseSettings):
    """Server and engine settings; each field reads ``HUSH_<NAME>`` from the environment."""

    model_config = SettingsConfigDict(env_prefix="HUSH_", env_file=None, extra="ignore")

    model: str | None = Field(
        None,
        description="Hugging Face id, folder or .pt file of a Whisper checkpoint; unset: the model picked in the "
        "app, else the one bundled in the executable, else whisper-small (backend/checkpoints/choice.py).",
    )
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        "auto", description="Where inference runs; auto picks CUDA, then MPS, then CPU."
    )
    precision: Precision = Field(
        Precision.AUTO, description="auto: int8 on CPU, float16 on CUDA; or float32, float16, bfloat16, int8."
    )
    long_form: LongForm = Field(
        LongForm.AUTO,
        description="Audio longer than one 30 s window: auto (batched unless beam search), batched or sequential.",
    )
    engine: str | None = Field(
        None,
        description="Where transcription runs: 'local' (this computer) or an OpenAI-compatible server's base URL "
        "(http://gpu-box:8000/v1); unset: the engine picked in the app (backend/engine/servers.py).",
    )
    engine_key: SecretStr | None = Field(
        None, repr=False, description="The API key for HUSH_ENGINE's server (sent to that server only)."
    )
    host: str = Field("127.0.0.1", description="Interface to bind; loopback keeps Hush private.")
    allow_remote: bool = Field(False, description="Required to bind anything but loopback: others could then connect.")
    token: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        repr=False,
        min_length=16,
        description="The secret every API call must carry; a fresh random one per launch unless set.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra web origins allowed to call the API (comma-separated); Hush's own page always is.",
    )
    hub_endpoint: str | None = Field(
        None, description="A Hugging Face hub mirror to download models from (default: the hub itself)."
    )
    port: int = Field(0, ge=0, le=65535, description="TCP port; 0 picks a free one.")
    data_dir: Path = Field(
        default_factory=lambda: Path(user_data_dir("Hush", appauthor=False)),
        description="Where Hush keeps its data (recordings, the history database, temporary uploads).",
    )
    max_upload_mb: int = Field(1024, gt=0, description="Largest accepted upload in megabytes.")
    max_duration_minutes: float = Field(240, gt=0, description="Longest accepted recording in minutes.")
    upload_stall_seconds: float = Field(
        30, gt=0, description="An upload that sends nothing for this long is dropped (a stalled client)."
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def split_origins(cls, value: object) -> object:
        """``HUSH_ALLOWED_ORIGINS=https://a.example,https://b.example``."""
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def database(self) -> Path:
        return self.data_dir / "hush.db"

    @property
    def recordings_dir(self) -> Path:
        """Every recording and upload, kept until its transcription is deleted."""
        return self.data_dir / "recordings"


def read_settings(**values: object) -> Settings:
    """``Settings(**values)`` with the environment under them; a bad value ends the process with a
    sentence naming its variable and what is wrong (never the value: it may be the token), not a
    traceback."""
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = [f"HUSH_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}." for e in error.errors()]
        raise SystemExit("Hush cannot start, a setting is not usable:\n  " + "\n  ".join(problems)) from None
