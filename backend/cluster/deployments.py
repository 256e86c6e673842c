"""The Ray Serve application: an ingress (Hush's own FastAPI app) and the engine deployment.

The ingress is ``create_app()`` with a ``ClusterEngine``: the token, the Host and Origin rules, the
upload limits, the routes, the history and the errors are the desktop server's. It runs as one
replica (the history is one SQLite database in its data folder); the engine deployment's replicas
each hold one model and one inference thread, with as many torch threads as CPUs Ray gives them.
Either a fixed number of replicas, or Serve's autoscaling between a minimum and a maximum on one
ongoing request per replica (a replica takes one chunk at a time: more would only queue inside it).

``build`` is the application builder ``serve run`` takes (``docs/cluster.md`` has a config file);
``hush-serve`` (``serve.py``) calls ``application`` directly.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field, model_validator
from ray import serve
from ray.serve import Application
from ray.serve.handle import DeploymentHandle

from backend.checkpoints import choice
from backend.cluster.dispatch import ClusterEngine
from backend.cluster.replica import EngineReplica
from backend.settings import Settings, read_settings
from backend.web.app import create_app
from backend.web.server import refuse_remote_unless_allowed

APP = "hush"
ENGINE = "Engine"
INGRESS = "Ingress"
#: Requests the ingress takes at once: uploads, health checks and waiting transcriptions alike (its
#: work is storing, cutting at pauses and waiting on replicas, not inference).
INGRESS_REQUESTS = 256


class NoToken(SystemExit):
    """The cluster refuses to start without ``HUSH_TOKEN``: a fresh random one would lock everyone out,
    and no token would open it to anyone."""

    def __init__(self) -> None:
        super().__init__(
            "hush-serve needs HUSH_TOKEN: the secret every request to the cluster must carry (at least 16 "
            "characters, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`). Set it in "
            "the environment of hush-serve (or the runtime_env of the serve config) and give it to the team."
        )


class Scale(BaseModel):
    """How many engine replicas, and the CPUs each gets (its torch threads)."""

    replicas: int | None = Field(None, ge=1, description="A fixed number of replicas (default 2 without autoscaling).")
    min_replicas: int | None = Field(None, ge=0)
    max_replicas: int | None = Field(None, ge=1)
    cpus_per_replica: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def one_way(self) -> Scale:
        autoscaling = self.min_replicas is not None or self.max_replicas is not None
        if autoscaling and self.replicas is not None:
            raise ValueError("give either a number of replicas or min/max replicas for autoscaling, not both")
        if autoscaling and (self.min_replicas or 0) > (self.max_replicas or self.min_replicas or 1):
            raise ValueError("min replicas is above max replicas")
        return self

    @property
    def most(self) -> int:
        """The most replicas there will be: how many chunks the ingress sends at once."""
        if self.replicas is not None or (self.min_replicas is None and self.max_replicas is None):
            return self.replicas or 2
        return self.max_replicas or max(self.min_replicas or 1, 1)

    def options(self) -> dict[str, Any]:
        """The engine deployment's Serve options."""
        cpus = self.cpus_per_replica
        actor = {"num_cpus": cpus, "runtime_env": {"env_vars": {"OMP_NUM_THREADS": str(max(1, int(cpus)))}}}
        options: dict[str, Any] = {"ray_actor_options": actor, "max_ongoing_requests": 1, "health_check_period_s": 5}
        if self.min_replicas is None and self.max_replicas is None:
            return options | {"num_replicas": self.replicas or 2}
        autoscaling = {
            "min_replicas": self.min_replicas if self.min_replicas is not None else 1,
            "max_replicas": self.most,
            "target_ongoing_requests": 1,
        }
        return options | {"autoscaling_config": autoscaling}


@serve.ingress()
class Ingress:
    """Hush's web app, its engine the engine deployment's replicas."""

    def __init__(self, engine: DeploymentHandle, settings: Settings, model_id: str, concurrency: int) -> None:
        self.engine, self.settings, self.model_id, self.concurrency = engine, settings, model_id, concurrency

    def __serve_build_asgi_app__(self) -> FastAPI:
        context = serve.get_replica_context()
        cluster = ClusterEngine(self.engine, self.model_id, context.app_name, ENGINE, self.concurrency)
        return create_app(self.settings, engine=cluster)


def application(settings: Settings, scale: Scale) -> Application:
    """The ingress bound to the engine deployment, ready for ``serve.run``; ``NoToken`` without ``HUSH_TOKEN``."""
    if "token" not in settings.model_fields_set:
        raise NoToken()
    refuse_remote_unless_allowed(settings)
    model_id = choice.for_settings(settings)
    engine = serve.deployment(EngineReplica, name=ENGINE, **scale.options())
    ingress = serve.deployment(
        Ingress, name=INGRESS, num_replicas=1, max_ongoing_requests=INGRESS_REQUESTS, ray_actor_options={"num_cpus": 0}
    )
    return ingress.bind(engine.bind(settings, model_id), settings, model_id, scale.most)


def build(args: dict[str, Any]) -> Application:
    """``serve run backend.cluster.deployments:build replicas=2`` or a config file's ``import_path``:
    the settings from ``HUSH_*`` (the runtime_env's ``env_vars``), the scale from ``args``."""
    return application(read_settings(), Scale.model_validate(args))
