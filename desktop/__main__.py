"""``hush`` and ``python -m desktop``: serve Hush on 127.0.0.1 and show it in its own window (or the browser)."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from desktop import cli, config, state
from desktop.service import Service


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run Hush, then leave at once with its exit status.

    By then the server has stopped and the state is saved, but native threads may still be busy
    (torch loading or warming up a model, Qt WebEngine's): an interpreter finalizing under them can
    abort ("terminate called without an active exception") and turn a clean close into a crash."""
    try:
        code = run(argv)
    except SystemExit as leaving:  # argparse's --help or a bad option; a HUSH_* setting Hush cannot use
        if isinstance(leaving.code, str):
            print(leaving.code, file=sys.stderr)
        code = leaving.code if isinstance(leaving.code, int) else int(leaving.code is not None)
    except BaseException:
        traceback.print_exc()
        code = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(argv: Sequence[str] | None = None) -> int:
    options = cli.parse(argv)
    logging.basicConfig(
        level=logging.DEBUG if options.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = config.load_settings(options)  # a setting it cannot use ends here, with a sentence naming it
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
    remembered.port = service.port or remembered.port
    state.save(settings.data_dir, remembered)
    return code


if __name__ == "__main__":
    main()
