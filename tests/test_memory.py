"""backend/memory.py: freed blocks leave the process instead of staying in glibc's heaps."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator only")

#: Twenty 4 MB blocks, every other one freed (holes a heap cannot shrink past): the RSS left, in MB.
CHILD = """
import json, sys
import numpy as np
from backend import memory
def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS"))
if sys.argv[1] == "mapped":
    memory.map_large_blocks()
np.ones(1 << 20, np.float32).sum()  # one 4 MB block freed: glibc's own threshold rises past 4 MB
before = rss()
blocks = [np.ones(1 << 20, np.float32) for _ in range(20)]
del blocks[::2]
print(json.dumps(rss() - before))
"""


def held_after_freeing_half(mode: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode], capture_output=True, text=True, timeout=60, check=True, cwd=ROOT
    )
    return json.loads(done.stdout)


def test_large_blocks_freed_leave_the_process_at_once():
    assert held_after_freeing_half("mapped") < 40 + 8  # the ten blocks still alive, and little more
    assert held_after_freeing_half("default") > 70  # glibc's default keeps the freed ones too
