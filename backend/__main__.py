"""``python -m backend``: serve the API and the recorder page, without a window."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from backend.engine import memory
from backend.web import starting


def main() -> None:
    """Serve until Ctrl+C or SIGTERM, then stop the running job, finish open requests and exit 0.

    It leaves with ``os._exit``: by then every job has recorded how it ended, and the interpreter's
    own teardown of torch and transformers would only delay every stop.
    The socket is bound and ``/api/health`` answered before the web app is even imported
    (``starting.py``)."""
    memory.one_heap()  # before any thread starts
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    doorway = starting.from_environment()
    from backend.settings import read_settings
    from backend.web.server import serve  # FastAPI, uvicorn, pydantic: a second or more, answered meanwhile

    try:
        settings = read_settings()
    except SystemExit:  # a setting it cannot use: the sentence naming it is the exit message
        if doorway is not None:
            doorway.close()
        raise
    if doorway is not None:  # answering already, while the app imports
        print(f"Hush is listening on {doorway.url}", flush=True)
    server = serve(settings, doorway)
    if doorway is None:
        print(f"Hush is listening on {server.url}", flush=True)
    stop.wait()
    server.stop()
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
