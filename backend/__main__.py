"""``python -m backend``: serve the API and the recorder page, without a window."""

from __future__ import annotations

import logging
import signal
import threading

from backend.server import Server
from backend.settings import Settings


def main() -> None:
    """Serve until Ctrl+C or SIGTERM, then finish open requests and exit 0."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = Server(Settings())
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(f"Hush is listening on {server.url}", flush=True)
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
