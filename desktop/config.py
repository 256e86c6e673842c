"""The backend ``Settings`` for this launch: command line, then HUSH_* variables, then the bundled model."""

from __future__ import annotations

import os
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
    """Settings with the command line on top; a bundled model replaces the default, not the user's choice."""
    from backend.settings import Settings  # pydantic only: a fraction of a second, torch is not imported

    overrides = options.overrides()
    bundled = bundled_model()
    if bundled and "model" not in overrides and not os.environ.get("HUSH_MODEL"):
        overrides["model"] = str(bundled)
    return Settings(**overrides)
