"""All settings of the server in one typed object, overridable by ``HUSH_*`` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.precision import Precision

DEFAULT_MODEL = "openai/whisper-small"


class Settings(BaseSettings):
    """Server and engine settings; each field reads ``HUSH_<NAME>`` from the environment."""

    model_config = SettingsConfigDict(env_prefix="HUSH_", env_file=None, extra="ignore")

    model: str = Field(DEFAULT_MODEL, description="Hugging Face id or local folder of a Whisper checkpoint.")
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        "auto", description="Where inference runs; auto picks CUDA, then MPS, then CPU."
    )
    precision: Precision = Field(
        Precision.AUTO, description="auto: int8 on CPU, float16 on CUDA; or float32, float16, bfloat16, int8."
    )
    host: str = Field("127.0.0.1", description="Interface to bind; loopback keeps Hush private.")
    hub_endpoint: str | None = Field(
        None, description="A Hugging Face hub mirror to download models from (default: the hub itself)."
    )
    port: int = Field(0, ge=0, le=65535, description="TCP port; 0 picks a free one.")
    data_dir: Path = Field(
        default_factory=lambda: Path(user_data_dir("Hush", appauthor=False)),
        description="Where Hush keeps its data (models, temporary uploads).",
    )
    max_upload_mb: int = Field(1024, gt=0, description="Largest accepted upload in megabytes.")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def upload_dir(self) -> Path:
        """Uploads are streamed here, next to the data, never held in memory."""
        return self.data_dir / "uploads"
