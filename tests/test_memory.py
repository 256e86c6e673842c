"""Handing freed memory back: glibc's thresholds while a model loads, trims after a module runs."""

from __future__ import annotations

import ctypes
import threading

import pytest
import torch

from backend import memory

MB = 1 << 20


def in_brk_heap(address: int) -> bool:
    """Whether ``address`` lies in the main thread's ``[heap]`` (glibc's brk heap, not a mapping of its own)."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            if line.rstrip().endswith("[heap]"):
                start, end = (int(x, 16) for x in line.split()[0].split("-"))
                if start <= address < end:
                    return True
    return False


def address_of(block: bytearray) -> int:
    return ctypes.addressof((ctypes.c_char * len(block)).from_buffer(block))


@pytest.mark.skipif(memory._libc() is None, reason="glibc's malloc only")
def test_while_a_model_loads_blocks_of_a_megabyte_are_mapped_apart_and_afterwards_come_from_the_heap():
    def heap_or_mapped() -> str:
        memory.trim()  # no free room left in the heap: the block must come from the system
        block = bytearray(4 * MB)
        return "heap" if in_brk_heap(address_of(block)) else "mapped"

    found = []  # on the main thread, whose glibc arena is the brk heap that [heap] names
    with memory.loading():
        found.append(heap_or_mapped())
    found.append(heap_or_mapped())
    with memory.loading():
        found.append(heap_or_mapped())
    found.append(heap_or_mapped())
    assert found == ["mapped", "heap", "mapped", "heap"]


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
