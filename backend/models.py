"""Where Whisper checkpoints come from: a local folder, the hub cache, or a download."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import snapshot_download
from huggingface_hub.errors import (
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
)

#: The files a Whisper checkpoint needs; skips the TF/Flax/ONNX copies some repos carry.
CHECKPOINT_FILES = ["*.json", "*.txt", "*.safetensors", "*.tiktoken"]


class ModelMissing(LookupError):
    """The checkpoint is not on this machine and cannot be fetched; the message says
    what the user can do about it."""


def how_to_get(model_id: str) -> str:
    return (
        f"Connect to the internet once so Hush can download '{model_id}', "
        "or set HUSH_MODEL to a folder that holds a Whisper checkpoint."
    )


def locate(model_id: str) -> Path:
    """The folder holding ``model_id``'s files, downloading them if needed and possible."""
    folder = Path(model_id).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ModelMissing(f"The folder {folder} has no config.json, so it is not a Whisper checkpoint.")
        return folder
    if folder.is_absolute() or model_id.startswith((".", "~")) or model_id.count("/") > 1:
        raise ModelMissing(f"The model folder {folder} does not exist.")
    try:
        return Path(snapshot_download(model_id, allow_patterns=CHECKPOINT_FILES, local_files_only=True))
    except LocalEntryNotFoundError:
        pass
    except HFValidationError as error:
        raise ModelMissing(f"'{model_id}' is neither a folder nor a Hugging Face model id.") from error
    try:
        return Path(snapshot_download(model_id, allow_patterns=CHECKPOINT_FILES))
    except RepositoryNotFoundError as error:
        raise ModelMissing(f"There is no model '{model_id}' on the Hugging Face hub.") from error
    except (LocalEntryNotFoundError, OSError) as error:
        raise ModelMissing(
            f"The model '{model_id}' is not on this computer and the Hugging Face hub cannot be reached. "
            + how_to_get(model_id)
        ) from error
