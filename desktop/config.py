"""The backend ``Settings`` for this launch: the command line, then the HUSH_* variables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop.cli import Options

if TYPE_CHECKING:
    from backend.settings import Settings


def load_settings(options: Options) -> Settings:
    """Settings with the command line over the HUSH_* variables (which model runs: ``backend.checkpoints.choice``)."""
    from backend.settings import read_settings  # pydantic only: a fraction of a second, torch is not imported

    return read_settings(**options.overrides())
