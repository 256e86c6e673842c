"""Which model Hush runs, decided here and nowhere else.

In order: ``HUSH_MODEL`` (or ``--model``) when given; else the model last picked in the app,
remembered in the data folder (``<data dir>/active-model``: a hub id, a folder or a ``.pt`` file);
else the checkpoint frozen into the single executable (``HUSH_BUNDLE_MODEL`` at build time), so it
works offline from the first launch; else the default, whisper-small. Standard library only: the
server's first ``/api/health`` answer, given before the app imports, names the same model.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.settings import Settings

DEFAULT_MODEL = "openai/whisper-small"
ACTIVE_MODEL_FILE = "active-model"
#: Where build.spec puts a checkpoint given at build time, inside the bundle.
BUNDLED_MODEL_DIR = "model"


def bundled_model() -> Path | None:
    """The checkpoint frozen into the executable, if there is one."""
    root = getattr(sys, "_MEIPASS", None)
    folder = Path(root, BUNDLED_MODEL_DIR) if root else None
    return folder if folder and (folder / "config.json").is_file() else None


def chosen_model(asked: str | None, data_dir: Path) -> str:
    """The model to run: ``asked`` (``HUSH_MODEL``), the remembered pick, the bundled one, the default."""
    if asked:
        return asked
    remembered = data_dir / ACTIVE_MODEL_FILE
    if remembered.is_file() and (picked := remembered.read_text().strip()):
        return picked
    bundled = bundled_model()
    return str(bundled) if bundled else DEFAULT_MODEL


def for_settings(settings: Settings) -> str:
    """``chosen_model`` for a launch's settings."""
    return chosen_model(settings.model, settings.data_dir)


def remember_model(settings: Settings, model_id: str) -> None:
    """The model picked in the app is the one the next launch starts with."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / ACTIVE_MODEL_FILE).write_text(model_id)
