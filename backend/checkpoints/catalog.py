"""The Whisper checkpoints Hush offers, the ones already on this computer, and downloads.

Any hub id, folder or ``.pt`` file works as ``HUSH_MODEL``; the catalogue is the short list
a person picks from in the settings panel, with the download size they are signing up for,
and ``found_on_this_computer`` adds the models other Whisper programs left on disk.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import huggingface_hub.constants

from backend.checkpoints import locate, model_bin
from backend.status import ModelMissing


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    size_bytes: int  # of the safetensors weights
    multilingual: bool
    note: str


MB = 1_000_000
CATALOGUE = [
    Entry("openai/whisper-tiny", "Tiny", 151 * MB, True, "fastest, rough"),
    Entry("openai/whisper-tiny.en", "Tiny (English)", 151 * MB, False, "fastest, English only"),
    Entry("openai/whisper-base", "Base", 290 * MB, True, "fast"),
    Entry("openai/whisper-base.en", "Base (English)", 290 * MB, False, "fast, English only"),
    Entry("openai/whisper-small", "Small", 967 * MB, True, "the default: good and quick"),
    Entry("openai/whisper-small.en", "Small (English)", 967 * MB, False, "English only"),
    Entry("openai/whisper-medium", "Medium", 3_060 * MB, True, "accurate, slow on a laptop CPU"),
    Entry("openai/whisper-medium.en", "Medium (English)", 3_060 * MB, False, "English only"),
    Entry("openai/whisper-large-v3-turbo", "Large v3 Turbo", 1_620 * MB, True, "most accurate; best with a GPU"),
    Entry("distil-whisper/distil-large-v3", "Distil Large v3", 1_510 * MB, False, "large quality, English only"),
]


@dataclass(frozen=True)
class FoundModel:
    """A Whisper model another program left on this computer: usable offline at once, no download.

    ``id`` is what to hand to ``HUSH_MODEL``, ``locate.locate`` or the activate endpoint: the
    absolute path of a faster-whisper folder (a snapshot in the Hugging Face cache) or of an
    openai-whisper ``.pt`` file. The first load converts it once (``backend/checkpoints/convert.py``)."""

    id: str
    name: str  # for people: the hub repository ("Systran/faster-whisper-base") or the file's name ("base")
    size_bytes: int  # on disk
    multilingual: bool | None  # None: not known without reading the whole file
    source: str  # "faster-whisper" or "openai-whisper": the program whose cache it is in

    @property
    def note(self) -> str:
        return f"found on this computer ({self.source})"


#: openai-whisper's checkpoint names (``~/.cache/whisper/<name>.pt``) that are multilingual.
OPENAI_MULTILINGUAL = {"tiny", "base", "small", "medium", "large", "large-v1", "large-v2", "large-v3",
                       "large-v3-turbo", "turbo"}  # fmt: skip


def openai_whisper_cache() -> Path:
    """Where openai-whisper keeps its downloads (its own rule: ``$XDG_CACHE_HOME/whisper``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "whisper"


def found_on_this_computer(hub_cache: Path | None = None, whisper_cache: Path | None = None) -> list[FoundModel]:
    """Whisper models in the Hugging Face cache in CTranslate2 form (Systran/faster-whisper-*, and
    any other repository whose snapshot holds a whole CTranslate2 Whisper model.bin) and
    openai-whisper's ``.pt`` downloads; transformers checkpoints are left to ``locate.cached``.
    Reads file headers only: cheap enough for every listing of the models panel."""
    hub_cache = Path(hub_cache or huggingface_hub.constants.HF_HUB_CACHE)
    whisper_cache = whisper_cache or openai_whisper_cache()
    found: list[FoundModel] = []
    for repo in sorted(hub_cache.glob("models--*")):
        snapshots = [s for s in (repo / "snapshots").glob("*") if (s / "model.bin").is_file()]
        for snapshot in sorted(snapshots, key=lambda s: s.stat().st_mtime, reverse=True)[:1]:
            vocab_size = whisper_vocab_size(snapshot / "model.bin")
            if vocab_size is not None:
                repo_id = "/".join(repo.name.split("--")[1:])
                found.append(FoundModel(str(snapshot), repo_id, size_on_disk(snapshot), vocab_size >= 51865,
                                        "faster-whisper"))  # fmt: skip
    for checkpoint in sorted(whisper_cache.glob("*.pt")):
        name = checkpoint.stem
        multilingual = False if name.endswith(".en") else True if name in OPENAI_MULTILINGUAL else None
        found.append(FoundModel(str(checkpoint), name, checkpoint.stat().st_size, multilingual, "openai-whisper"))
    return found


def whisper_vocab_size(path: Path) -> int | None:
    """The vocabulary size of a whole CTranslate2 Whisper model.bin; None for anything else."""
    if model_bin.spec_of(path) != model_bin.WHISPER_SPEC:
        return None
    try:
        return model_bin.ModelFile(path).index.variable("decoder/embeddings/weight").shape[0]
    except (OSError, model_bin.FormatError):
        return None


def size_on_disk(folder: Path) -> int:
    """The bytes of a folder's files (a hub snapshot's are links to its blobs)."""
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())


class DownloadState(StrEnum):
    DOWNLOADING = "downloading"
    DONE = "done"
    FAILED = "failed"


@dataclass
class Download:
    """One model's download, updated by its thread and read by the API."""

    model_id: str
    state: DownloadState = DownloadState.DOWNLOADING
    bytes_done: int = 0
    bytes_total: int = 0
    bytes_per_second: float = 0.0
    error: str | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def percent(self) -> float:
        return round(100 * self.bytes_done / self.bytes_total, 1) if self.bytes_total else 0.0

    def progress(self, done: int, total: int) -> None:
        self.bytes_done, self.bytes_total = done, total
        self.bytes_per_second = done / max(time.monotonic() - self.started, 1e-6)


class Downloads:
    """Downloads running in background threads, one per model, and what became of them."""

    def __init__(self, endpoint: str | None = None) -> None:
        self.endpoint = endpoint
        self._downloads: dict[str, Download] = {}
        self._lock = threading.Lock()

    def start(self, model_id: str) -> Download:
        """Begin downloading ``model_id`` unless it is already under way."""
        with self._lock:
            current = self._downloads.get(model_id)
            if current and current.state is DownloadState.DOWNLOADING:
                return current
            download = self._downloads[model_id] = Download(model_id)
        threading.Thread(target=self._run, args=(download,), name=f"hush-download-{model_id}", daemon=True).start()
        return download

    def get(self, model_id: str) -> Download | None:
        return self._downloads.get(model_id)

    def all(self) -> list[Download]:
        return list(self._downloads.values())

    def forget(self, model_id: str) -> None:
        self._downloads.pop(model_id, None)

    def _run(self, download: Download) -> None:
        try:
            locate.download(download.model_id, download.progress, self.endpoint)
            download.bytes_done = download.bytes_total = max(download.bytes_done, download.bytes_total)
            download.state = DownloadState.DONE
        except ModelMissing as error:
            download.error, download.state = str(error), DownloadState.FAILED
        except Exception as error:  # a full disk or a dropped connection must show in the UI, not kill the thread
            download.error = f"The download of {download.model_id} failed: {error}. Try again."
            download.state = DownloadState.FAILED
