"""How many CPU threads inference uses: as many as there are cores that other programs leave free.

torch runs each operation's parallel part on a team of OpenMP threads (libgomp) that meet at a
barrier at its end. A decoding step is hundreds of small operations, so hundreds of barriers. When
another program keeps one core busy, the team member the kernel put on that core runs only in the
time slices it gets (milliseconds) while its partner spins at the barrier: every small operation
takes a time slice instead of microseconds, and one core busy elsewhere slows Hush many times over.
A team no larger than the free cores never waits for a descheduled member, and a single thread has
no barrier at all. So the inference thread measures, between its operations, how busy the machine
is apart from Hush itself, and sizes torch's team to what is left:

- busy cores of others = (CPU time all cores spent in the last interval − Hush's own) / interval,
  from ``/proc/stat`` and the process's CPU time (steal time counts as busy: a virtual machine's
  host took it);
- threads = the CPUs Hush may run on minus the cores others occupy (a core counts once others use
  ``DROP_AT`` of one, and stops counting under ``TAKE_BACK_UNDER``: a dead band, so that a passing
  spike does not flip the team size back and forth), between 1 and torch's own default.

It is measured at least ``INTERVAL`` seconds apart (two reads of small files) and only
while inference runs. Where ``/proc/stat`` does not exist (macOS, Windows) the count stays as
torch chose it. ``torch.set_num_threads`` holds for the OpenMP thread that calls it, so ``adjust`` runs on
the thread that runs the model (the inference thread; the loading thread while it warms the model up).
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path

import torch

log = logging.getLogger(__name__)

#: Seconds between two measurements: 20 clock ticks per core at the kernel's usual 100 Hz.
INTERVAL = 0.1
#: Busy cores of others at which one thread is dropped, and under which it is taken back.
DROP_AT = 0.35
TAKE_BACK_UNDER = 0.2

STAT = Path("/proc/stat")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def allowed_cpus() -> set[int]:
    """The CPUs this process may run on (a container's or ``taskset``'s limit included)."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def busy_seconds(cpus: set[int], stat: Path = STAT) -> float:
    """CPU seconds the given CPUs have spent on anything but idling since boot."""
    total = 0
    for line in stat.read_text().splitlines()[1:]:
        name, *fields = line.split()
        if not name.startswith("cpu"):
            break
        if int(name[3:]) in cpus:
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
            total += user + nice + system + irq + softirq + steal
    return total / TICKS


def own_seconds() -> float:
    """CPU seconds this process has used, all its threads together."""
    times = os.times()
    return times.user + times.system


class Threads:
    """torch's thread count on the inference thread, following the cores others leave free."""

    def __init__(self, stat: Path = STAT, clock=time.monotonic) -> None:
        self.cpus = allowed_cpus()
        self.most = max(1, min(torch.get_num_threads(), len(self.cpus)))
        self.count = self.most
        self._stat = stat if stat.exists() else None
        self._clock = clock
        self._last: tuple[float, float, float] | None = None  # (wall, all cores' busy, own) at the last reading
        self.others = 0.0  # busy cores of other programs in the last interval

    def adjust(self) -> int:
        """Re-measure if ``INTERVAL`` has passed and set torch's thread count; returns it. Cheap
        enough to call before every decoding step."""
        if self._stat is None or self.most == 1:
            return self.count
        now = self._clock()
        if self._last is not None and now - self._last[0] < INTERVAL:
            return self.count
        reading = (now, busy_seconds(self.cpus, self._stat), own_seconds())
        if self._last is not None:
            wall = reading[0] - self._last[0]
            others = (reading[1] - self._last[1]) - (reading[2] - self._last[2])
            self.others = max(0.0, others / wall)
            self._set(self._wanted())
        self._last = reading
        return self.count

    def _wanted(self) -> int:
        """Whole free cores, dropping a thread once others fill ``DROP_AT`` of one and taking it back
        only under ``TAKE_BACK_UNDER``: in between, the count stays."""
        cpus = len(self.cpus)
        drop = max(1, min(self.most, cpus - math.floor(self.others + 1 - DROP_AT)))
        take_back = max(1, min(self.most, cpus - math.floor(self.others + 1 - TAKE_BACK_UNDER)))
        if drop < self.count:
            return drop
        if take_back > self.count:
            return take_back
        return self.count

    def _set(self, count: int) -> None:
        if count != self.count:
            log.debug("inference threads %d -> %d (others busy on %.2f cores)", self.count, count, self.others)
            self.count = count
        if torch.get_num_threads() != count:
            torch.set_num_threads(count)
