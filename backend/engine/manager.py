"""The model in use: one engine at a time, loaded, switched and closed behind one lock.

Start-up, shut-down, the job queue, the models router and the health check all ask the
manager; nothing else holds an engine. It imports the engine (and so torch) on a
background thread, so the server answers "loading" at once instead of after the
seconds that importing torch and transformers takes.

The engine is this computer's (a Whisper model loaded here) or remote (``remote.py``: the
servers of the engine choice, ``servers.py``); while a server is the engine no model is loaded
here, and a model picked meanwhile is only remembered for when this computer is chosen again.
A switch of either kind retires the old engine without cancelling it: jobs queued on it finish
on it. Shutting down stops every engine, the running job at its next decoding step.

A server started with its engine given (``fixed``: a cluster's replicas, ``backend/cluster``) uses
that one for its whole life; switching the model or the engine is then refused with a sentence.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from backend.checkpoints import choice
from backend.engine import servers
from backend.engine.servers import EngineChoice, UnusableServer
from backend.settings import Settings
from backend.status import ModelNotReady, ModelState, ModelStatus, Unchangeable

if TYPE_CHECKING:
    from backend.engine.engine import Engine
    from backend.engine.remote import ChunkedEngine, RemoteEngine

#: Why a fixed engine's server refuses a switch.
FIXED = (
    "This server's model and engine were chosen by whoever started it (hush-serve); they cannot be changed "
    "through the API. Restart it with other settings to change them."
)

log = logging.getLogger(__name__)


class ModelManager:
    """Owns the engine in use and the ones retired by a switch that are still finishing their queue."""

    def __init__(self, settings: Settings, fixed: ChunkedEngine | None = None) -> None:
        self.settings = settings
        self._fixed = fixed
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._model_id = choice.for_settings(settings)
        self._engine: Engine | RemoteEngine | None = None
        self._retired: list[Engine | RemoteEngine] = []
        self._pending = ModelStatus(self._model_id, ModelState.LOADING, f"Loading {self._model_id}…")
        self._started = False
        self._closed = False
        try:
            self._choice = servers.for_settings(settings)
        except UnusableServer as error:  # HUSH_ENGINE names a server Hush will not use: said, not run
            self._choice = EngineChoice("servers", from_environment=True)
            self._pending = ModelStatus(settings.engine or "", ModelState.ERROR, f"HUSH_ENGINE: {error}")

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Begin loading the chosen model in the background (idempotent)."""
        with self._lock:
            if self._started or self._closed:
                return
            self._started = True
            model_id = self._model_id
            if self._fixed is not None:
                self._engine = self._fixed
                self._fixed.start()
                return
            if self._choice.remote:
                self._engine = self._remote(self._choice)
                return
            if self._choice.kind == "servers":  # HUSH_ENGINE was refused: the status says why
                return
        self._load_in_background(model_id)

    @staticmethod
    def _remote(engines: EngineChoice) -> RemoteEngine:
        from backend.engine.remote import RemoteEngine  # imports nothing heavy until its first job

        return RemoteEngine(engines)

    @property
    def current(self) -> Engine | RemoteEngine | None:
        """The engine in use in whatever state, or ``None`` before it exists."""
        with self._lock:
            return self._engine

    @property
    def engines(self) -> EngineChoice:
        """Where work goes: this computer or the servers."""
        return self._choice

    @property
    def fixed(self) -> bool:
        """Whether the engine was given for the server's life (a cluster's ingress)."""
        return self._fixed is not None

    def describe(self) -> str:
        """Where work goes, in words: the fixed engine's own words, else the engine choice's."""
        return (self._fixed.describe() if self._fixed is not None else None) or self._choice.describe()

    def use(self, engines: EngineChoice) -> ModelStatus:
        """Make ``engines`` the engine choice, remembered for the next launch. The old engine finishes
        what was queued on it; choosing this computer loads the picked model."""
        with self._lock:
            if self._closed:
                raise ModelNotReady(ModelStatus(self._model_id, ModelState.ERROR, "Hush is shutting down."))
            if self._fixed is not None:
                raise Unchangeable(FIXED)
            servers.remember_choice(self.settings.data_dir, engines)
            if not engines.remote and not self._choice.remote:  # this computer already: its model stays
                self._choice = engines
                return self._status()
            if self._engine is not None:
                self._engine.close(cancel_pending=False)
                self._retired.append(self._engine)
            self._choice, self._engine = engines, None
            load_local = self._started and not engines.remote
            if engines.remote:
                self._engine = self._remote(engines) if self._started else None
            else:
                self._pending = ModelStatus(self._model_id, ModelState.LOADING, f"Loading {self._model_id}…")
            self._changed.notify_all()
            status = self._status()
            model_id = self._model_id
        if load_local:
            self._load_in_background(model_id)
        return status

    def switch(self, model_id: str) -> ModelStatus:
        """Make ``model_id`` the model in use; it loads in the background and is remembered for the next
        launch. The old engine finishes what was queued on it, then goes."""
        with self._lock:
            if self._closed:
                raise ModelNotReady(ModelStatus(model_id, ModelState.ERROR, "Hush is shutting down."))
            if self._fixed is not None:
                raise Unchangeable(FIXED)
            if model_id != self._model_id and self._choice.remote:  # remembered for this computer's next turn
                self._model_id = model_id
                choice.remember_model(self.settings, model_id)
                starting = False
            elif model_id != self._model_id:
                if self._engine is not None:
                    self._engine.close(cancel_pending=False)
                    self._retired.append(self._engine)
                self._model_id, self._engine = model_id, None
                self._pending = ModelStatus(model_id, ModelState.LOADING, f"Loading {model_id}…")
                choice.remember_model(self.settings, model_id)
                self._changed.notify_all()
                starting = self._started
            else:
                starting = False
            status = self._status()
        if starting:
            self._load_in_background(model_id)
        return status

    def close(self) -> None:
        """Shutting down: stop every engine; the running job stops at its next decoding step."""
        with self._lock:
            self._closed = True
            engines = [*self._retired, *([self._engine] if self._engine else [])]
            self._retired.clear()
            self._changed.notify_all()
        for engine in engines:
            engine.close(cancel_pending=True)

    def _load_in_background(self, model_id: str) -> None:
        threading.Thread(target=self._load, args=(model_id,), name="hush-model-manager", daemon=True).start()

    def _load(self, model_id: str) -> None:
        try:
            from backend.engine.engine import Engine  # imports torch: seconds, off the server's start-up path

            settings = self.settings
            engine = Engine(model_id, settings.device, settings.precision, settings.hub_endpoint, settings.long_form)
        except Exception as error:  # a broken torch install must show as the model's status, not kill the thread
            log.exception("the engine could not be created")
            with self._lock:
                if model_id == self._model_id:
                    self._pending = ModelStatus(model_id, ModelState.ERROR, f"Hush could not start its engine: {error}")
                    self._changed.notify_all()
            return
        with self._lock:
            current = model_id == self._model_id and self._engine is None and not self._closed
            current = current and not self._choice.remote
            if current:
                self._engine = engine
                self._changed.notify_all()
        if current:
            engine.start()
        else:  # switched away (or shut down) while it was being created
            engine.close(cancel_pending=False)

    # -- what the routes and the queue ask -------------------------------------------
    @property
    def model_id(self) -> str:
        return self._fixed.model_id if self._fixed is not None else self._model_id

    @property
    def status(self) -> ModelStatus:
        with self._lock:
            return self._status()

    def _status(self) -> ModelStatus:
        return self._engine.status if self._engine is not None else self._pending

    def engine(self) -> Engine | RemoteEngine:
        """The engine in use, ready for work; ``ModelNotReady`` while it loads, is missing or broke."""
        with self._lock:
            engine = self._engine
            status = self._status()
        if engine is None or status.state is not ModelState.READY:
            raise ModelNotReady(status)
        return engine

    @property
    def languages(self) -> list[str]:
        """Language codes the model in use knows, once it is ready (empty before)."""
        try:
            return self.engine().languages
        except ModelNotReady:
            return []

    def wait_until_loaded(self, timeout: float | None = None) -> ModelStatus:
        """Block until the model in use has loaded or failed (or ``timeout`` passes); its status then."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._changed.wait_for(self._engine_or_outcome, timeout)
            engine = self._engine
        if engine is None:
            return self.status
        return engine.wait_until_loaded(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def _engine_or_outcome(self) -> bool:
        return self._engine is not None or self._closed or self._pending.state is not ModelState.LOADING
