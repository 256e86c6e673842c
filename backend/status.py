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
class Worker:
    """One copy of the model serving this engine elsewhere (a cluster's replica): its id, its state and
    where it runs, in words."""

    id: str
    state: str
    detail: str = ""


@dataclass(frozen=True)
class ModelStatus:
    id: str
    state: ModelState
    detail: str
    #: The copies of the model that do the work where that is not this process (a cluster's replicas).
    workers: tuple[Worker, ...] = ()


class ModelNotReady(RuntimeError):
    """Raised instead of queueing work while the model is loading, missing or broken."""

    def __init__(self, status: ModelStatus) -> None:
        super().__init__(status.detail)
        self.status = status


class ModelMissing(LookupError):
    """The checkpoint is not on this machine and cannot be fetched; the message says
    what the user can do about it."""


class Unchangeable(RuntimeError):
    """The engine was fixed by whoever started the server (a cluster's ``hush-serve``): the model and
    the engine cannot be switched through the API; the message says so."""
