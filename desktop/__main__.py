"""``hush`` and ``python -m desktop``: serve Hush on 127.0.0.1 and show it in its own window (or the browser)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from desktop import cli, config, state
from desktop.service import Service


def main(argv: Sequence[str] | None = None) -> int:
    options = cli.parse(argv)
    logging.basicConfig(
        level=logging.DEBUG if options.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = config.load_settings(options)
    except ValueError as error:  # pydantic's ValidationError: a bad HUSH_* value
        print(f"hush: invalid setting: {error}", file=sys.stderr)
        return 2
    remembered = state.load(settings.data_dir)
    service = Service(settings, preferred_port=remembered.port)
    service.start()  # torch imports on its own thread from here on; the window does not wait for it
    try:
        if options.browser:
            from desktop import browser

            code = browser.run(service)
        else:
            from desktop import window

            code, remembered.window = window.run(settings, service, remembered.window, debug=options.debug)
    finally:
        service.stop()
    if service.url:
        remembered.port = urlsplit(service.url).port
    state.save(settings.data_dir, remembered)
    return code


if __name__ == "__main__":
    sys.exit(main())
