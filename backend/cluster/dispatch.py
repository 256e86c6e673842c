"""The ingress's engine: a job's chunks dispatched to the engine deployment's replicas.

The split at pauses, the fan-out, the retry and the merge are the remote engine's
(``engine/remote.py``, ``ChunkedEngine``); only the transport differs: a Ray Serve deployment
handle instead of HTTP. Ray Serve picks the replica for each chunk (the least busy of two, none
that is starting or dead); a replica that dies under a chunk fails that call with a Ray error,
which is ``Unavailable`` here, so the chunk is tried again after a short backoff and Serve routes
it to a replica that is alive. The replicas and their states are read from the Serve controller
once a second (``get_serve_details``: what the dashboard and ``serve status`` show; its client is
private API, hence Ray pinned to a minor version): the engine is ``loading`` until one replica is
ready, and a request meanwhile gets the server's 503 with Retry-After.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

import numpy as np
from ray.exceptions import RayError, RayTaskError
from ray.serve.context import _get_global_client
from ray.serve.handle import DeploymentHandle
from ray.serve.schema import ReplicaState, ServeInstanceDetails

from backend.audio import pcm16
from backend.engine.openai_client import Answer, Refused, Sent, Unavailable
from backend.engine.remote import CHUNK_SECONDS, ChunkedEngine, wav_size
from backend.status import ModelState, ModelStatus, Worker
from backend.transcript import Cancelled, InvalidOptions, Options

log = logging.getLogger("ray.serve")

#: Seconds between two readings of the deployment's state.
WATCH_EVERY = 1.0
#: How often a chunk's call is checked for a cancel while it runs.
CANCEL_CHECK = 0.25


class Replicas:
    """The engine deployment as one ``Target``: as many chunks at once as it has replicas at most."""

    id = "replicas"
    host = "the cluster's replicas"

    def __init__(self, handle: DeploymentHandle, concurrency: int) -> None:
        self.handle = handle
        self.concurrency = concurrency

    def transcribe(
        self, samples: np.ndarray, options: Options, cancel: threading.Event | None = None, sent: Sent | None = None
    ) -> Answer:
        # 16-bit, as every remote server gets it: half of float32 through the object store, and what
        # the replica decodes is what a WAV of the chunk would give (audio.pcm16 inverts decode exactly).
        response = self.handle.transcribe.remote(pcm16(samples), options)
        if sent is not None:  # in the object store, on its way to a replica: all of it, in the engine's count
            sent(wav_size(len(samples)))
        while True:
            try:
                return response.result(timeout_s=CANCEL_CHECK)
            except TimeoutError:
                if cancel is not None and cancel.is_set():
                    response.cancel()
                    raise Cancelled("The transcription was cancelled.") from None
            except RayTaskError as error:  # the replica's own exception: its sentence
                cause = error.cause if isinstance(error.cause, Exception) else error
                if isinstance(cause, InvalidOptions):
                    raise Refused(str(cause)) from None
                raise Unavailable(
                    f"A replica could not transcribe a chunk ({type(cause).__name__}: {cause})."
                ) from None
            except RayError as error:  # the replica died or is unreachable: Serve routes the retry elsewhere
                raise Unavailable(f"A replica stopped while transcribing a chunk ({type(error).__name__}).") from None

    def close(self) -> None:
        """The handle belongs to Serve; nothing to close."""


class ClusterEngine(ChunkedEngine):
    """Every replica of the engine deployment as one engine, ``jobs_at_once`` jobs side by side."""

    def __init__(
        self,
        handle: DeploymentHandle,
        model_id: str,
        app: str,
        deployment: str,
        concurrency: int,
        chunk_seconds: float = CHUNK_SECONDS,
    ) -> None:
        loading = ModelStatus(model_id, ModelState.LOADING, f"Loading {model_id} on the cluster's replicas…")
        super().__init__(model_id, [Replicas(handle, concurrency)], loading, chunk_seconds, jobs_at_once=concurrency)
        self.app, self.deployment = app, deployment
        self._watching = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._watch, name="hush-cluster-watch", daemon=True).start()

    def close(self, cancel_pending: bool = True, timeout: float | None = None) -> None:
        self._watching.set()
        super().close(cancel_pending, timeout)

    def describe(self) -> str:
        ready = sum(w.state == "ready" for w in self.status.workers)
        return f"Cluster: {self.model_id} on {ready} of {len(self.status.workers)} replicas"

    # -- the deployment's state ---------------------------------------------------
    def _watch(self) -> None:
        while not self._watching.is_set():
            try:
                self._status = self._read()
            except Exception as error:  # the controller restarting: keep the last state, say so in the log
                log.warning("could not read the cluster's state: %s", error)
            self._watching.wait(WATCH_EVERY)

    def _read(self) -> ModelStatus:
        """The deployment's replicas as the Serve controller sees them (the dashboard's own source)."""
        details = ServeInstanceDetails(**_get_global_client().get_serve_details())
        deployment = details.applications[self.app].deployments[self.deployment]
        workers = tuple(
            Worker(
                replica.replica_id,
                "ready" if replica.state == ReplicaState.RUNNING else str(replica.state.value).lower(),
                f"pid {replica.pid} on {replica.node_ip}, {self.served[replica.replica_id]} chunks transcribed",
            )
            for replica in deployment.replicas
        )
        ready = sum(w.state == "ready" for w in workers)
        others = Counter(w.state for w in workers if w.state != "ready")
        waiting = ", ".join(f"{count} {state}" for state, count in others.items())
        if ready:
            detail = f"{self.model_id} on {ready} replica{'s' * (ready != 1)}" + (f" ({waiting})" if waiting else "")
            return ModelStatus(self.model_id, ModelState.READY, detail, workers)
        detail = f"Loading {self.model_id} on the cluster's replicas ({waiting or 'none placed yet'})…"
        return ModelStatus(self.model_id, ModelState.LOADING, detail, workers)
