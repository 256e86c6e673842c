"""``hush-serve``: deploy Hush on a Ray cluster and serve it at one address until Ctrl+C.

``hush-serve --ray-address auto --replicas 4`` joins the running cluster (``ray start --head`` /
``ray start --address``), starts Ray Serve's HTTP proxy on ``HUSH_HOST:HUSH_PORT`` (8000 when unset)
and deploys the application of ``deployments.py``; without ``--ray-address`` it starts Ray on this
machine alone. It prints the address once Ray Serve reports the application running, and takes
the application down again when stopped.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

import ray
from ray import serve
from ray.serve import Application

from backend.cluster.deployments import APP, Scale, application
from backend.settings import Settings, read_settings

#: Ray Serve's own default port, for ``HUSH_PORT`` unset (0 would be a port nobody knows).
DEFAULT_PORT = 8000


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="hush-serve",
        description="Serve Hush's OpenAI-compatible API from a Ray cluster. HUSH_TOKEN is required; HUSH_MODEL, "
        "HUSH_HOST (with HUSH_ALLOW_REMOTE=1 beyond loopback), HUSH_PORT and the other HUSH_* settings apply.",
    )
    parser.add_argument(
        "--ray-address", help="the cluster to join ('auto': the one on this machine); default: start one"
    )
    parser.add_argument("--replicas", type=int, help="a fixed number of engine replicas (default 2)")
    parser.add_argument("--min-replicas", type=int, help="autoscaling: the fewest replicas")
    parser.add_argument("--max-replicas", type=int, help="autoscaling: the most replicas")
    parser.add_argument("--cpus-per-replica", type=float, default=1.0, help="CPUs (and torch threads) per replica")
    return parser.parse_args(argv)


def deploy(app: Application, settings: Settings) -> str:
    """Start Serve's proxy on the settings' host and port and deploy Hush; its base URL once Serve says it runs."""
    port = settings.port or DEFAULT_PORT
    serve.start(http_options={"host": settings.host, "port": port})
    serve.run(app, name=APP, route_prefix="/")
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{port}/"


def main(argv: list[str] | None = None) -> None:
    options = arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = read_settings()
    try:
        scale = Scale(
            replicas=options.replicas,
            min_replicas=options.min_replicas,
            max_replicas=options.max_replicas,
            cpus_per_replica=options.cpus_per_replica,
        )
        app = application(settings, scale)  # refused before anything starts: no token, a host not allowed
    except ValueError as error:
        raise SystemExit(f"hush-serve: {error}") from None
    ray.init(address=options.ray_address, logging_level=logging.WARNING)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # after ray.init, which puts its own SIGTERM handler in
        signal.signal(sig, lambda *_: stop.set())  # (it exited without taking the application down)
    try:
        url = deploy(app, settings)
        print(f"Hush is serving on {url} (API clients: {url}v1 with the key HUSH_TOKEN)", flush=True)
        stop.wait()
    finally:
        serve.delete(APP)
        ray.shutdown()


if __name__ == "__main__":
    main()
