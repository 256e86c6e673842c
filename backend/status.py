"""What the model is doing: the state the health check, the routes and the page follow.

Torch-free, so the server reports "loading" while the engine is still importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ModelState(StrEnum):
    LOADING = "loading"
    READY = "ready"
    ERROR = "error"
    MISSING = "missing"


@dataclass(frozen=True)
class ModelStatus:
    id: str
    state: ModelState
    detail: str


class ModelNotReady(RuntimeError):
    """Raised instead of queueing work while the model is loading, missing or broken."""

    def __init__(self, status: ModelStatus) -> None:
        super().__init__(status.detail)
        self.status = status


class ModelMissing(LookupError):
    """The checkpoint is not on this machine and cannot be fetched; the message says
    what the user can do about it."""
