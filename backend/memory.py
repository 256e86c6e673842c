"""Handing memory the process has freed back to the operating system.

glibc keeps what a thread frees in that thread's heap, for its own later allocations. By
default a block only gets its own mapping (given back at once when freed) from 128 KB, and
that threshold rises with every large block freed, up to 32 MB: after the first window,
the encoder's activations (5-18 MB each for whisper-small) all come from the heaps, whose
freed space stays counted in the process's memory. So ``map_large_blocks()`` fixes the
threshold at ``LARGE_BLOCK`` (whisper-small's peak: 1117 -> 930 MB on a minute of speech),
and ``trim()`` gives back what the heaps hold free at the points where much was freed:
after loading (the model, loaded on one thread, leaves its float32 weights' memory to a
heap the inference thread never reuses) and after each batch or transcription. Both are
no-ops where the C library has no such calls (macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

#: Blocks of this size or more are mapped on their own: freed, they leave the process at once.
LARGE_BLOCK = 1 << 20
#: glibc's ``mallopt`` parameter for that size (malloc.h).
M_MMAP_THRESHOLD = -3


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None  # musl has neither


def map_large_blocks() -> None:
    """From now on, blocks of ``LARGE_BLOCK`` or more are mapped on their own (see the module)."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)


def trim() -> None:
    """Return the free memory of every heap to the operating system (a few milliseconds)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
