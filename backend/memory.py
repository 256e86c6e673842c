"""Handing memory the process has freed back to the operating system.

glibc keeps what a thread frees in that thread's heap, for its own later allocations, and
tensors of up to 32 MB come from those heaps. So the model, loaded on one thread, leaves
its float32 weights' memory to a heap the inference thread never reuses (~280 MB for
whisper-base), and blocks freed between two batches of a long recording stay counted in
the process's memory. ``trim()`` gives them back (``malloc_trim``) at those points: after
loading and after each batch or transcription. A no-op where the C library has no such
call (macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys


@functools.cache
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def trim() -> None:
    """Return the free memory of every heap to the operating system (a few milliseconds)."""
    release = _malloc_trim()
    if release is not None:
        release(0)
