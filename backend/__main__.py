"""``python -m backend``: serve the API and the recorder page, without a window."""

from __future__ import annotations

import logging

from backend.server import Server
from backend.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = Server(Settings())
    print(f"Hush is listening on {server.url}", flush=True)
    server.run()


if __name__ == "__main__":
    main()
