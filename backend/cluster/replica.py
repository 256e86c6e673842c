"""The engine deployment's replica: one model, one inference thread, as many torch threads as Ray gave
it CPUs. It loads in its constructor, so Ray Serve counts it as starting (and routes nothing to it) until
the model is ready; a chunk is one ``Request`` to the local engine, its answer the ``Answer`` a server
would give, named by the replica's id."""

from __future__ import annotations

import logging
import os
import socket

import numpy as np
import ray
from ray import serve

from backend.audio import SAMPLE_RATE, from_pcm16
from backend.engine.openai_client import Answer
from backend.settings import Settings
from backend.status import ModelState
from backend.transcript import Options, Request

log = logging.getLogger("ray.serve")


class EngineReplica:
    """Ray Serve builds one per replica; ``transcribe`` is called through the deployment's handle."""

    def __init__(self, settings: Settings, model_id: str) -> None:
        import torch

        from backend.engine.engine import Engine

        cpus = int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)) or 1
        torch.set_num_threads(cpus)  # the team's ceiling (engine/threads.py): never more than Ray gave it
        self.name = serve.get_replica_context().replica_id.unique_id
        where = f"pid {os.getpid()} on {socket.gethostname()}, {cpus} CPU"
        log.info("replica %s (%s) loading %s", self.name, where, model_id)
        self.engine = Engine(model_id, settings.device, settings.precision, settings.hub_endpoint, settings.long_form)
        self.engine.start()
        status = self.engine.wait_until_loaded()
        if status.state is not ModelState.READY:
            raise RuntimeError(status.detail)  # Serve retries the replica and says why in its status
        log.info("replica %s ready", self.name)

    def transcribe(self, pcm: np.ndarray, options: Options) -> Answer:
        """A chunk, 16 kHz mono 16-bit (``audio.pcm16``); times from its start."""
        samples = from_pcm16(pcm)
        transcript = self.engine.submit(Request(audio=samples, options=options)).result()
        timed = any(segment.words for segment in transcript.segments)
        seconds = len(samples) / SAMPLE_RATE
        return Answer(transcript.text, transcript.language, transcript.segments, timed, seconds, by=self.name)

    def check_health(self) -> None:
        """Ray Serve asks every few seconds; a replica whose engine broke is replaced."""
        if self.engine.status.state is ModelState.ERROR:
            raise RuntimeError(self.engine.status.detail)
