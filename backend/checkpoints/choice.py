"""The model a person picked in the app, remembered in the data folder for the next launch.

``HUSH_MODEL`` (or ``--model``), when given, wins over it; without either the default applies.
The file is ``<data dir>/active-model``, holding the model's id (a hub id, a folder or a ``.pt`` file).
"""

from __future__ import annotations

from backend.settings import Settings

ACTIVE_MODEL_FILE = "active-model"


def chosen_model(settings: Settings) -> str:
    """``HUSH_MODEL`` when given, else the model last picked in the app, else the default."""
    remembered = settings.data_dir / ACTIVE_MODEL_FILE
    if "model" not in settings.model_fields_set and remembered.is_file():
        return remembered.read_text().strip() or settings.model
    return settings.model


def remember_model(settings: Settings, model_id: str) -> None:
    """The model picked in the app is the one the next launch starts with."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / ACTIVE_MODEL_FILE).write_text(model_id)
