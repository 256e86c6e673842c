"""Where Whisper checkpoints come from: a local folder or file, the hub cache, or a download.

Once a checkpoint is on disk nothing here touches the network: the cache is asked
first with ``local_files_only``, and only a model that is not there is fetched.
A faster-whisper (CTranslate2) folder or an openai-whisper ``.pt`` file is converted once
into Hush's cache (``backend/checkpoints/convert.py``) and loads from there.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import huggingface_hub.constants
from huggingface_hub import scan_cache_dir, snapshot_download
from huggingface_hub.errors import (
    CacheNotFound,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
)
from tqdm import tqdm

from backend.status import ModelMissing

#: The files a Whisper checkpoint needs; skips the TF/Flax/ONNX copies some repos carry.
CHECKPOINT_FILES = ["*.json", "*.txt", "*.safetensors", "*.tiktoken"]

#: ``(bytes done, bytes total)`` as a download goes.
ByteProgress = Callable[[int, int], None]
#: Called with a sentence for the person waiting, e.g. "Converting model.bin (42 %)…".
StatusCallback = Callable[[str], None]


def how_to_get(model_id: str) -> str:
    return (
        f"Connect to the internet once so Hush can download '{model_id}', "
        "or set HUSH_MODEL to a Whisper model on this computer: a transformers or faster-whisper folder, "
        "or an openai-whisper .pt file."
    )


def is_folder(model_id: str) -> bool:
    """Whether ``model_id`` names a local path (a folder, or a ``.pt`` file) rather than a hub id
    like ``openai/whisper-small``."""
    path = Path(model_id).expanduser()
    return path.is_dir() or path.is_file() or model_id.startswith(("/", ".", "~")) or model_id.count("/") > 1


def is_ctranslate2(folder: Path) -> bool:
    """A faster-whisper (CTranslate2) model folder: model.bin beside its config and vocabulary
    (and no transformers weights: a repository holding both loads the transformers ones)."""
    return (folder / "model.bin").is_file() and not any(folder.glob("*.safetensors"))


def cached(model_id: str) -> Path | None:
    """The checkpoint's folder (or ``.pt`` file) if it is on this machine, without any network
    access. A faster-whisper folder counts: ``locate`` converts it."""
    folder = Path(model_id).expanduser()
    if folder.is_file():
        return folder if folder.suffix == ".pt" else None
    if folder.is_dir():
        return folder if (folder / "config.json").is_file() or is_ctranslate2(folder) else None
    if is_folder(model_id):
        return None
    try:
        snapshot = Path(snapshot_download(model_id, allow_patterns=CHECKPOINT_FILES, local_files_only=True))
    except (LocalEntryNotFoundError, HFValidationError):
        return None
    has_weights = any(snapshot.glob("*.safetensors")) or is_ctranslate2(snapshot)
    return snapshot if (snapshot / "config.json").is_file() and has_weights else None


def download(model_id: str, on_progress: ByteProgress | None = None, endpoint: str | None = None) -> Path:
    """Fetch ``model_id`` from the hub (resuming partial files) into the cache."""
    try:
        return Path(
            snapshot_download(
                model_id,
                allow_patterns=CHECKPOINT_FILES,
                endpoint=endpoint,
                tqdm_class=reporting_bar(on_progress) if on_progress else None,
            )
        )
    except RepositoryNotFoundError as error:
        raise ModelMissing(f"There is no model '{model_id}' on the Hugging Face hub.") from error
    except HFValidationError as error:
        raise ModelMissing(f"'{model_id}' is neither a folder nor a Hugging Face model id.") from error
    except (LocalEntryNotFoundError, OSError) as error:
        raise ModelMissing(
            f"The model '{model_id}' is not on this computer and the Hugging Face hub cannot be reached. "
            + how_to_get(model_id)
        ) from error


def locate(model_id: str, endpoint: str | None = None, on_status: StatusCallback | None = None) -> Path:
    """The transformers checkpoint folder for ``model_id``, downloading it if needed and possible.

    ``model_id`` is a hub id, a transformers folder, a faster-whisper folder (or its
    model.bin) or an openai-whisper ``.pt`` file; the last two are converted the first
    time (seconds to a minute), telling ``on_status`` how far it got, and reused after.
    Raises ``ModelMissing`` (or its subclass ``convert.ModelUnreadable``) with a sentence
    saying what to do."""
    path = Path(model_id).expanduser()
    if path.is_file() and not (path.suffix == ".pt" or path.name == "model.bin"):
        raise ModelMissing(
            f"{path} is a file but not a Whisper model. Point Hush at a folder with a Whisper checkpoint, "
            "a faster-whisper folder or an openai-whisper .pt file."
        )
    if path.is_dir() and not (path / "config.json").is_file() and not is_ctranslate2(path):
        raise ModelMissing(
            f"The folder {path} has no config.json (transformers) or model.bin (faster-whisper), "
            "so it is not a Whisper checkpoint."
        )
    if is_folder(model_id) and not path.exists():
        raise ModelMissing(f"The model folder {path} does not exist.")
    found = path if path.is_file() else cached(model_id) or download(model_id, endpoint=endpoint)
    if found.suffix == ".pt" or found.name == "model.bin" or is_ctranslate2(found):
        from backend.checkpoints import convert  # torch and transformers: imported only when a model loads

        return convert.converted(found, on_status)
    return found


def delete(model_id: str) -> int:
    """Remove a downloaded model from the hub cache; returns the bytes freed."""
    try:
        cache = scan_cache_dir(huggingface_hub.constants.HF_HUB_CACHE)
    except CacheNotFound:
        return 0
    hashes = [rev.commit_hash for repo in cache.repos if repo.repo_id == model_id for rev in repo.revisions]
    if not hashes:
        return 0
    strategy = cache.delete_revisions(*hashes)
    strategy.execute()
    return strategy.expected_freed_size


def reporting_bar(on_progress: ByteProgress) -> type[tqdm]:
    """A silent tqdm class that reports the download's byte counts to ``on_progress``.

    ``snapshot_download`` aggregates every file's bytes into one bar titled
    "Reconstructing…" (unit B); that is the one followed here.
    """

    class ReportingBar(tqdm):
        def __init__(self, *args, **kwargs) -> None:
            kwargs.pop("name", None)
            self.reports = kwargs.get("unit") == "B" and str(kwargs.get("desc", "")).startswith("Reconstruct")
            super().__init__(*args, **{**kwargs, "file": io.StringIO(), "disable": False})

        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            if self.reports:
                on_progress(int(self.n), int(self.total or 0))
            return shown

    return ReportingBar
