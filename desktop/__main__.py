"""``hush`` and ``python -m desktop``: serve Hush on 127.0.0.1 and show it in its own window (or the browser)."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
import urllib.error
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from backend.engine import memory
from desktop import cli, config, entries, instance, shortcut, state
from desktop.controls import Controls
from desktop.service import Service, ServiceFailed

if TYPE_CHECKING:
    from backend.settings import Settings

log = logging.getLogger(__name__)


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
    memory.one_heap()  # before any thread starts: the server, the model's loader, Qt's
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == [cli.DICTATE]:
        return dictate(cli.dictate_parser().parse_args(arguments[1:]).action)
    options = cli.parse(arguments)
    logging.basicConfig(
        level=logging.DEBUG if options.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if options.install or options.uninstall:
        return install(options.install)
    if missing := [str(f) for f in options.files if not f.is_file()]:
        print(f"Hush cannot open {', '.join(missing)}: no such file.", file=sys.stderr)
        return 2
    settings = config.load_settings(options)  # a setting it cannot use ends here, with a sentence naming it
    try:
        claimed = instance.claim(settings.data_dir, options.files)
    except (instance.NotReached, instance.Refused) as error:
        print(error, file=sys.stderr)
        return 1
    if isinstance(claimed, instance.Running):
        print(f"Hush is already running (process {claimed.pid}): brought it to the front.", flush=True)
        return 0
    try:
        return serve(options, settings, claimed)
    finally:
        claimed.release()


def serve(options: cli.Options, settings: Settings, lock: instance.Lock) -> int:
    """Run this Hush, the only one of this user, until its window (or browser session) is closed."""
    remembered = state.load(settings.data_dir)
    controls = Controls(settings.data_dir, remembered)
    service = Service(settings, preferred_port=remembered.port, desktop=controls)
    service.start()  # torch imports on its own thread from here on; the window does not wait for it
    if not options.browser:  # dictation records through the window
        listen_for_dictation(controls)
    threading.Thread(target=announce, args=(service, lock, options.files), name="hush-announce", daemon=True).start()
    try:
        if options.browser:
            from desktop import browser

            code = browser.run(service, controls)
        else:
            from desktop import window

            code, remembered.window = window.run(
                settings, service, controls, remembered.window, hidden=options.hidden, debug=options.debug
            )
    finally:
        service.stop()
    remembered.port = service.port or remembered.port
    state.save(settings.data_dir, remembered)
    return code


def listen_for_dictation(controls: Controls) -> None:
    """The global dictation shortcut, as the user set it (the default if the remembered one is broken)."""
    try:
        shortcut.parse(controls.remembered.dictation_shortcut)
        combo = controls.remembered.dictation_shortcut
    except ValueError:
        combo = shortcut.DEFAULT
    keys = shortcut.Shortcut(
        combo,
        start=lambda: controls.dictate("start"),
        stop=lambda: controls.dictate("stop"),
        cancel=lambda: controls.dictate("cancel"),
        dictating=lambda: controls.dictating,
    )
    shortcut.listen(keys, lambda note: controls.listen(keys, note))


def announce(service: Service, lock: instance.Lock, files: Sequence[Path]) -> None:
    """Once the server answers: tell later launches where (``instance.json``), then queue the files
    this launch was given (``hush FILE…``, the file manager's "Open with") as soon as the model is ready."""
    try:
        service.wait()
    except ServiceFailed:
        return
    running = lock.publish(service.base_url or "", service.token)
    if files:
        try:
            instance.open_files(running, files, deadline=time.monotonic() + instance.MODEL_WAIT_SECONDS)
        except (OSError, instance.Refused) as error:
            log.error("Hush could not transcribe %s: %s", ", ".join(map(str, files)), error)


def dictate(action: str) -> int:
    """``hush dictate ACTION``: passed to the running Hush through its instance file and local API."""
    settings = config.load_settings(cli.Options())
    running = instance.read(settings.data_dir)
    if running is None:
        print("Hush is not running: start it first, then dictate.", file=sys.stderr)
        return 1
    try:
        running.call("POST", f"api/desktop/dictation/{action}")
    except urllib.error.HTTPError as error:
        print(instance.problem(error), file=sys.stderr)
        return 1
    except OSError as error:
        print(f"Hush (process {running.pid}) did not answer: {error}.", file=sys.stderr)
        return 1
    return 0


def install(add: bool) -> int:
    """``--install`` / ``--uninstall``: the applications menu's entry and icons."""
    if not entries.supported():
        print("Hush's menu entry is for Linux desktops; on Windows and macOS the executable carries its icon.")
        return 1
    if add:
        for path in entries.install():
            print(f"wrote {path}")
        print("Hush is in the applications menu now.")
    else:
        removed = entries.uninstall()
        for path in removed:
            print(f"removed {path}")
        print("Hush is out of the applications menu." if removed else "Hush was not in the applications menu.")
    return 0


if __name__ == "__main__":
    main()
