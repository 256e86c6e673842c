"""Handing memory the process has freed back to the operating system.

glibc keeps what a thread frees in that thread's heap, for its own later allocations, and
tensors of up to 32 MB come from those heaps. So the model, loaded on one thread, leaves
its float32 weights' memory to a heap the inference thread never reuses, and blocks freed
between two batches of a long recording stay counted in the process's memory. ``trim()``
gives them back (``malloc_trim``) at those points: after loading, after each encoder pass
(its activations are the largest blocks an inference frees) and after each batch or
transcription.

While a model loads, ``loading()`` has every block of 1 MB or more mapped on its own
(``M_MMAP_THRESHOLD``): the float32 weights read and freed layer by layer then leave no holes
between the int8 ones that stay, and loading peaks lower. Not afterwards: inference frees
and takes such blocks all the time, and mapping each anew would slow it down (zeroed pages,
faulted in again).

All of it is a no-op where the C library has no such calls (macOS, Windows, musl).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
#: While loading: blocks from this size up are mapped on their own.
LOADING_MMAP_THRESHOLD = 1 << 20
#: Afterwards: where glibc's own adaptive thresholds end up (its maximum for 64-bit), held there.
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD

_loads = 0
_loads_lock = threading.Lock()


@functools.cache
def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None  # glibc's, not musl's


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """Blocks of 1 MB or more mapped on their own while the body (a model's loading) runs; then
    glibc's thresholds held where its adaptive ones settle (setting one stops the adaptation)."""
    global _loads
    libc = _libc()
    with _loads_lock:
        _loads += 1
        if libc is not None:
            libc.mallopt(M_MMAP_THRESHOLD, LOADING_MMAP_THRESHOLD)
    try:
        yield
    finally:
        with _loads_lock:
            _loads -= 1
            if libc is not None and _loads == 0:
                libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def one_heap() -> None:
    """Every thread started from now on allocates from the heap the process started with (glibc
    makes one per thread that allocates, up to eight per core, and what one thread frees only that
    thread reuses), unless the environment chose (``MALLOC_ARENA_MAX``, glibc's ``arena_max``
    tunable). Threads that have a heap keep it: call this before threads start."""
    libc = _libc()
    chosen = "MALLOC_ARENA_MAX" in os.environ or "glibc.malloc.arena_max" in os.environ.get("GLIBC_TUNABLES", "")
    if libc is not None and not chosen:
        libc.mallopt(M_ARENA_MAX, 1)


def trim_after(module: torch.nn.Module) -> None:
    """``trim()`` after every forward pass of ``module``."""
    module.register_forward_hook(lambda *_: trim())


def trim() -> None:
    """Return the free memory of every heap to the operating system."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
