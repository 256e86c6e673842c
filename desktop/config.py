"""The backend ``Settings`` for this launch: command line, then HUSH_* variables, then the bundled model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.cli import Options

if TYPE_CHECKING:
    from backend.settings import Settings

#: Where build.spec puts a checkpoint given at build time (HUSH_BUNDLE_MODEL), inside the bundle.
BUNDLED_MODEL_DIR = "model"


def bundled_model() -> Path | None:
    """The checkpoint frozen into the executable, so it works offline from the first launch."""
    root = getattr(sys, "_MEIPASS", None)
    folder = Path(root, BUNDLED_MODEL_DIR) if root else None
    return folder if folder and (folder / "config.json").is_file() else None


def load_settings(options: Options) -> Settings:
    """Settings with the command line on top. A bundled model replaces the built-in default only: it
    stays a default, so a model the user picked in the app (backend.checkpoints.choice) still wins."""
    from backend.settings import read_settings  # pydantic only: a fraction of a second, torch is not imported

    settings = read_settings(**options.overrides())
    bundled = bundled_model()
    if bundled and "model" not in settings.model_fields_set:  # neither --model nor HUSH_MODEL
        settings = settings.model_copy(update={"model": str(bundled)})
        settings.model_fields_set.discard("model")
    return settings
