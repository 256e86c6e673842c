"""The single executable's front: unpack the app once into a per-user cache, then run it from there.

A PyInstaller onefile unpacks everything (1.1 GB: torch, Qt WebEngine) into a new temporary
folder on every launch and deletes it on exit; that, not Python, makes it slow to start. So
build.spec puts the app folder, as a zip, inside this small onefile program:
``[bootloader][app zip][PyInstaller's archive]``. PyInstaller's archive must stay last: its
bootloader looks for it backwards from the end of the file, and reading back through 420 MB
of zip would slow every launch. The first launch unpacks the zip into
``<cache>/app-<version>-<content hash>``; later launches find it there and start as fast as an
unpacked folder. Another build has another hash, so an upgrade never runs stale files, and
older versions are removed once nothing runs from them.

Standard library only: this runs before, and without, the app's dependencies.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

APP = "hush"
#: The end of PyInstaller's archive: magic, then the archive's length (the rest of the cookie follows).
PYINSTALLER_MAGIC = b"MEI\x0c\x0b\x0a\x0b\x0e"
COOKIE = struct.Struct("!8sIIii64s")
#: The zip's comment, written by build.spec: "hush-app <version> <content hash>".
MARKER = "hush-app"
COMPLETE = ".complete"
#: An unfinished unpacking older than this is from a crashed launch, not a concurrent one.
STALE_SECONDS = 3600


def cache_root() -> Path:
    """Per user, where the platform keeps caches; ``HUSH_CACHE_DIR`` overrides it."""
    if override := os.environ.get("HUSH_CACHE_DIR"):
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "Hush" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "Hush"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / APP


class Head(io.RawIOBase):
    """The first ``end`` bytes of a file, as a file of their own: there the zip is at the end, where
    zipfile looks for its directory."""

    def __init__(self, path: Path, end: int) -> None:
        self._file = open(path, "rb")  # noqa: SIM115  (closed with this object)
        self._end = end

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._file.tell(), io.SEEK_END: self._end}[whence]
        return self._file.seek(min(max(base + offset, 0), self._end))

    def tell(self) -> int:
        return self._file.tell()

    def readinto(self, buffer: bytearray | memoryview) -> int:
        size = max(0, min(len(buffer), self._end - self._file.tell()))
        return self._file.readinto(memoryview(buffer)[:size])

    def close(self) -> None:
        self._file.close()
        super().close()


def open_payload(executable: Path) -> zipfile.ZipFile:
    """The app zip inside ``executable``: it ends where PyInstaller's archive starts (a signature
    appended to a signed Windows executable may follow the archive)."""
    with open(executable, "rb") as file:
        size = file.seek(0, io.SEEK_END)
        tail_start = max(0, size - (1 << 16))
        file.seek(tail_start)
        tail = file.read()
    cookie = tail.rfind(PYINSTALLER_MAGIC)
    if cookie < 0 or cookie + COOKIE.size > len(tail):
        raise ValueError(f"{executable} has no PyInstaller archive at its end")
    archive_length = COOKIE.unpack_from(tail, cookie)[1]
    return zipfile.ZipFile(Head(executable, tail_start + cookie + COOKIE.size - archive_length))


def folder_name(payload: zipfile.ZipFile) -> str:
    """``app-<version>-<hash>`` from the payload's comment."""
    marker, version, digest = payload.comment.decode("ascii").split()
    if marker != MARKER:
        raise ValueError(f"not a Hush payload: {payload.comment!r}")
    return f"app-{version}-{digest[:16]}"


def unpack(payload: zipfile.ZipFile, target: Path) -> None:
    """Extract next to ``target`` and rename into place: a crash or a second launch racing this one never
    sees a half-written folder. Unix modes and symbolic links are kept (zipfile drops both)."""
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    for info in payload.infolist():
        path = partial / info.filename
        mode = info.external_attr >> 16
        if info.is_dir():
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if stat.S_ISLNK(mode):
            os.symlink(payload.read(info).decode("utf-8"), path)
            continue
        with payload.open(info) as source, open(path, "wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
        if mode and os.name != "nt":
            os.chmod(path, stat.S_IMODE(mode))
    (partial / COMPLETE).write_text(payload.comment.decode("ascii"), encoding="ascii")
    try:
        partial.rename(target)
    except OSError:
        if usable(target):  # another launch got there first: use its copy
            shutil.rmtree(partial, ignore_errors=True)
            return
        # Damaged (files deleted by hand or by a cleaner): set it aside for the sweep, take its place.
        target.rename(target.with_name(f"{target.name}.partial-{os.getpid()}-damaged"))
        partial.rename(target)


def usable(target: Path) -> bool:
    return (target / COMPLETE).is_file() and program_in(target).is_file()


def program_in(target: Path) -> Path:
    return target / (f"{APP}.exe" if sys.platform == "win32" else APP)


def hold(folder: Path) -> None:
    """Mark ``folder`` as in use for as long as the app runs (Unix: a shared lock the exec'd app inherits;
    on Windows the open executable itself keeps the folder from being renamed)."""
    if os.name == "posix":
        import fcntl

        lock = os.open(folder / COMPLETE, os.O_RDONLY)
        fcntl.flock(lock, fcntl.LOCK_SH)
        os.set_inheritable(lock, True)


def discard(folder: Path) -> None:
    """Delete an old version unless a program still runs from it."""
    if os.name == "posix":
        import fcntl

        try:
            marker = open(folder / COMPLETE, "rb")  # noqa: SIM115  (held while deleting)
        except OSError:  # never completed: nothing runs from it
            shutil.rmtree(folder, ignore_errors=True)
            return
        with marker:
            try:
                fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return  # a running app holds its shared lock (see hold)
            shutil.rmtree(folder, ignore_errors=True)
        return
    trash = folder.with_name(f"{folder.name}.partial-{os.getpid()}")  # what a failed delete leaves is swept later
    try:
        folder.rename(trash)  # Windows refuses while a program in the folder runs
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def remove_old_versions(current: Path) -> None:
    """Best effort: other versions no longer running, and unpackings abandoned by a crash."""
    now = time.time()
    for folder in current.parent.glob("app-*"):
        if folder == current:
            continue
        if ".partial-" in folder.name:
            if now - folder.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        else:
            discard(folder)


def child_environment() -> dict[str, str]:
    """Our environment without this onefile's own traces, so the app starts as a top-level program."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("_PYI_") and k != "_MEIPASS2"}
    env["PYINSTALLER_RESET_ENVIRONMENT"] = "1"
    env["HUSH_EXECUTABLE"] = sys.executable  # this file, not the unpacked copy: what a menu entry must start
    for variable in ("LD_LIBRARY_PATH", "LIBPATH", "DYLD_LIBRARY_PATH"):
        original = env.pop(f"{variable}_ORIG", None)
        if original is not None:
            env[variable] = original
        else:
            env.pop(variable, None)
    return env


def main() -> int:
    with open_payload(Path(sys.executable)) as app:
        target = cache_root() / folder_name(app)
        if not usable(target):
            print(f"Hush: unpacking into {target} (first launch of this version only)…", file=sys.stderr, flush=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            unpack(app, target)
    remove_old_versions(target)  # cheap when there is nothing to remove; an upgrade frees the old 1 GB
    program = program_in(target)
    arguments = [str(program), *sys.argv[1:]]
    hold(target)
    if os.name == "posix":  # become the app: same process, so signals and the exit status need no relaying
        os.execve(program, arguments, child_environment())
    return subprocess.call(arguments, env=child_environment())


if __name__ == "__main__":
    sys.exit(main())
