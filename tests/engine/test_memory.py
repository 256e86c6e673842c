"""Handing freed memory back: glibc's thresholds while a model loads, trims after a module runs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from backend.engine import memory

ROOT = Path(__file__).resolve().parents[2]


#: What both child programs below start with: where glibc put a block.
HEAP_PRELUDE = """
import ctypes, sys, threading
from backend.engine import memory

def in_brk_heap(address):  # the main thread's glibc arena is the brk heap that [heap] names
    with open("/proc/self/maps") as maps:
        for line in maps:
            if line.rstrip().endswith("[heap]"):
                start, end = (int(x, 16) for x in line.split()[0].split("-"))
                if start <= address < end:
                    return True
    return False
"""

CHILD = (
    HEAP_PRELUDE
    + """
def heap_or_mapped():
    memory.trim()  # no free room left at the heap's top: the block must come from the system
    block = bytearray(4 << 20)
    address = ctypes.addressof((ctypes.c_char * len(block)).from_buffer(block))
    return "heap" if in_brk_heap(address) else "mapped"

found = []
with memory.loading():
    found.append(heap_or_mapped())
found.append(heap_or_mapped())
with memory.loading():
    found.append(heap_or_mapped())
found.append(heap_or_mapped())
print(" ".join(found))
"""
)


@pytest.mark.skipif(memory._libc() is None, reason="glibc's malloc only")
def test_while_a_model_loads_blocks_of_a_megabyte_are_mapped_apart_and_afterwards_come_from_the_heap():
    # a process of its own: a heap that earlier tests left with free holes serves blocks from them
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["mapped", "heap", "mapped", "heap"]


class FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, option: int, value: int) -> int:
        self.calls.append((option, value))
        return 1


def test_overlapping_loads_keep_the_loading_threshold_until_the_last_one_ends(monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(memory, "_libc", lambda: libc)
    first, second = memory.loading(), memory.loading()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert (memory.M_MMAP_THRESHOLD, memory.MMAP_THRESHOLD) not in libc.calls
    second.__exit__(None, None, None)
    assert libc.calls[-2:] == [
        (memory.M_MMAP_THRESHOLD, memory.MMAP_THRESHOLD),
        (memory.M_TRIM_THRESHOLD, memory.TRIM_THRESHOLD),
    ]


def test_a_failed_load_still_puts_the_thresholds_back(monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(memory, "_libc", lambda: libc)
    with pytest.raises(RuntimeError), memory.loading():
        raise RuntimeError("broken checkpoint")
    assert libc.calls[-1] == (memory.M_TRIM_THRESHOLD, memory.TRIM_THRESHOLD)


def test_memory_is_trimmed_after_every_pass_of_a_module(monkeypatch):
    trims = []
    monkeypatch.setattr(memory, "trim", lambda: trims.append(threading.get_ident()))
    module = torch.nn.Linear(4, 4)
    memory.trim_after(module)
    module(torch.zeros(1, 4))
    module(torch.zeros(2, 4))
    assert len(trims) == 2


ONE_HEAP_CHILD = (
    HEAP_PRELUDE
    + """
def allocate():
    block = bytearray(64 << 10)  # under glibc's mmap threshold: from the thread's heap
    address = ctypes.addressof((ctypes.c_char * len(block)).from_buffer(block))
    print("main heap" if in_brk_heap(address) else "a heap of its own")

if sys.argv[1] == "one_heap()":
    memory.one_heap()
thread = threading.Thread(target=allocate)
thread.start()
thread.join()
"""
)


@pytest.mark.skipif(memory._libc() is None, reason="glibc's malloc only")
@pytest.mark.parametrize(("heaps", "expected"), [("one_heap()", "main heap"), ("glibc's default", "a heap of its own")])
def test_after_one_heap_a_new_thread_allocates_from_the_main_heap(heaps, expected):
    env = {k: v for k, v in os.environ.items() if k not in ("MALLOC_ARENA_MAX", "GLIBC_TUNABLES")}
    child = subprocess.run(
        [sys.executable, "-c", ONE_HEAP_CHILD, heaps], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == expected
