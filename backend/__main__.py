"""``python -m backend``: serve the API and the recorder page, without a window."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from backend.server import Server
from backend.settings import Settings


def main() -> None:
    """Serve until Ctrl+C or SIGTERM, then stop the running job, finish open requests and exit 0.

    It leaves with ``os._exit``: by then every job has recorded how it ended, and the interpreter's
    own teardown of torch and transformers would add 1.5–2 s to every stop on a 2-core machine."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = Server(Settings())
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(f"Hush is listening on {server.url}", flush=True)
    stop.wait()
    server.stop()
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
