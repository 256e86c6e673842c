"""One Hush per user: the first launch holds a lock, a second one hands its work over and leaves.

The first ``hush`` takes an exclusive lock on ``hush.lock`` in the data folder and, once its
server answers, writes ``instance.json`` (owner-only: it holds the server's token) with its
address. A second ``hush`` finds the lock taken, reads the file and asks the running one, through
its local API (``/api/desktop``), to come to the front and to transcribe the files it was given;
then it exits. The operating system drops the lock when its holder dies, however it dies
(``kill -9`` included), so a lock left by a crash is never mistaken for a running Hush: the next
launch takes it and writes a new instance file over the old one.

Standard library only: this runs before the backend is imported.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

LOCK_FILE = "hush.lock"
INSTANCE_FILE = "instance.json"
#: How long a second launch waits for the first one's server to answer (it may have just started).
FIRST_START_SECONDS = 60.0
#: How long files given at launch wait for the model (it may be loading, or downloading on first use).
MODEL_WAIT_SECONDS = 3600.0
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback never goes through a proxy


class NotReached(RuntimeError):
    """The running Hush holds the lock but did not answer; the message is meant for the user."""


class Refused(RuntimeError):
    """The running Hush answered with a problem (``{"detail": ...}``), e.g. a file it cannot read."""


@dataclass(frozen=True)
class Running:
    """How to reach a running Hush: its server's address (``http://127.0.0.1:PORT/``) and token."""

    pid: int
    base_url: str
    token: str

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 10.0) -> Any:
        """One request to its API; the decoded JSON answer (``None`` for an empty one)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with _direct.open(request, timeout=timeout) as response:
            answer = response.read()
        return json.loads(answer) if answer else None


class Lock:
    """The per-user lock: held while this process runs, released by the system when it ends."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; ``False`` if another Hush does."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = open(self.folder / LOCK_FILE, "a+b")  # noqa: SIM115  (kept open while the lock is held)
        try:
            _lock(handle)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def publish(self, base_url: str, token: str) -> Running:
        """Say where this Hush answers, for the next launch: written owner-only, then renamed into place."""
        record = Running(os.getpid(), base_url, token)
        temporary = self.folder / f".{INSTANCE_FILE}.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(record), out)
        temporary.replace(self.folder / INSTANCE_FILE)
        return record

    def release(self) -> None:
        """Withdraw the instance file, then the lock (a launch in between waits for the file, then starts anew)."""
        if self._file is None:
            return
        try:
            (self.folder / INSTANCE_FILE).unlink(missing_ok=True)
        except OSError as error:
            log.warning("could not remove %s: %s", self.folder / INSTANCE_FILE, error)
        self._file.close()  # closing the descriptor drops the lock
        self._file = None


def _lock(handle: IO[bytes]) -> None:
    """An exclusive, non-blocking lock on the whole file (``OSError`` when taken)."""
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def read(folder: Path) -> Running | None:
    """The running Hush's instance file, if it has written one (and it is readable)."""
    try:
        data = json.loads((folder / INSTANCE_FILE).read_text(encoding="utf-8"))
        return Running(int(data["pid"]), str(data["base_url"]), str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def claim(folder: Path, files: Sequence[Path], wait: float = FIRST_START_SECONDS) -> Lock | Running:
    """This launch's lock if no Hush runs; else the running Hush, brought to the front and given ``files``.

    The running one may have started a moment ago and not answer yet, or be closing: wait for its
    instance file and its server, or for its lock to come free, up to ``wait`` seconds.
    ``NotReached`` if it neither answers nor ends."""
    deadline = time.monotonic() + wait
    problem = "it has not said where it answers yet"
    lock = Lock(folder)
    while True:
        if lock.acquire():
            return lock
        running = read(folder)
        if running is not None:
            try:
                if files:
                    open_files(running, files, deadline)
                running.call("POST", "api/desktop/show")
                return running
            except OSError as error:  # not listening yet, or closing: try again (a Refused goes to the user)
                problem = str(error)
        if time.monotonic() > deadline:
            raise NotReached(
                f"Hush is already running (it holds {folder / LOCK_FILE}) but did not answer: {problem}. "
                "Close it, or end its process, and start Hush again."
            )
        time.sleep(0.1)


def open_files(running: Running, files: Sequence[Path], deadline: float) -> list[str]:
    """Queue ``files`` in the running Hush once its model is ready (it answers 503 while loading); the job ids."""
    paths = [str(Path(f).resolve()) for f in files]
    while True:
        try:
            return running.call("POST", "api/desktop/open", {"paths": paths})["ids"]
        except urllib.error.HTTPError as error:
            detail = problem(error)
            if error.code != 503 or time.monotonic() > deadline:
                raise Refused(detail) from error
            time.sleep(float(error.headers.get("Retry-After") or 1))


def problem(error: urllib.error.HTTPError) -> str:
    """The problem's sentence from an error answer (``{"detail": ...}``), else its status line."""
    try:
        return str(json.loads(error.read())["detail"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"{error.code} {error.reason}"
