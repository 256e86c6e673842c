"""backend/engine/threads.py: torch's thread team follows the cores other programs leave free."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from backend.engine import threads
from backend.engine.engine import Options
from backend.engine.threads import INTERVAL, Threads


class Machine:
    """A fake ``/proc/stat`` of two CPUs, a clock, and the process's own CPU time, moved by hand."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.stat = folder / "stat"
        self.now, self.busy, self.own = 0.0, [0.0, 0.0], 0.0
        monkeypatch.setattr(threads, "allowed_cpus", lambda: {0, 1})
        monkeypatch.setattr(threads, "own_seconds", lambda: self.own)
        self._write()

    def _write(self) -> None:
        ticks = [round(b * threads.TICKS) for b in self.busy]
        lines = [f"cpu  {sum(ticks)} 0 0 0 0 0 0 0 0 0"]
        lines += [f"cpu{n} {t} 0 0 1000 0 0 0 0 0 0" for n, t in enumerate(ticks)]
        self.stat.write_text("\n".join([*lines, "intr 0", "ctxt 0"]) + "\n")

    def run(self, seconds: float, others: float, own: float) -> None:
        """``seconds`` pass; other programs keep ``others`` cores busy, Hush ``own``."""
        self.now += seconds
        self.own += own * seconds
        for cpu, load in enumerate((min(1.0, others + own), max(0.0, others + own - 1.0))):
            self.busy[cpu] += load * seconds
        self._write()

    def clock(self) -> float:
        return self.now


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield Machine(tmp_path, monkeypatch)
    torch.set_num_threads(before)


def test_a_quiet_machine_keeps_every_thread(machine):
    team = Threads(machine.stat, machine.clock)
    for _ in range(5):
        assert team.adjust() == 2
        machine.run(0.2, others=0.05, own=2.0)
    assert torch.get_num_threads() == 2


def test_one_core_busy_elsewhere_leaves_one_thread_and_the_core_coming_free_gives_it_back(machine):
    team = Threads(machine.stat, machine.clock)
    team.adjust()
    machine.run(0.2, others=0.7, own=1.3)  # a busy loop sharing the cores with Hush's two threads
    assert team.adjust() == 1
    assert torch.get_num_threads() == 1
    machine.run(0.2, others=1.0, own=1.0)
    assert team.adjust() == 1
    machine.run(0.2, others=0.0, own=1.0)
    assert team.adjust() == 2
    assert torch.get_num_threads() == 2


def test_load_inside_the_dead_band_changes_nothing(machine):
    team = Threads(machine.stat, machine.clock)
    team.adjust()
    machine.run(0.2, others=0.27, own=1.7)
    assert team.adjust() == 2  # not enough to drop a thread
    machine.run(0.2, others=0.5, own=1.5)
    assert team.adjust() == 1
    machine.run(0.2, others=0.27, own=1.0)
    assert team.adjust() == 1  # not quiet enough to take it back


def test_the_machine_is_read_at_most_once_an_interval(machine):
    team = Threads(machine.stat, machine.clock)
    team.adjust()
    machine.run(INTERVAL / 2, others=1.0, own=1.0)
    assert team.adjust() == 2  # too soon to tell
    machine.run(INTERVAL, others=1.0, own=1.0)
    assert team.adjust() == 1


def test_without_proc_stat_the_count_stays_as_torch_chose(machine, tmp_path):
    team = Threads(tmp_path / "missing", machine.clock)
    machine.run(1.0, others=2.0, own=0.0)
    assert team.adjust() == 2


def test_a_transcription_beside_a_busy_program_gives_up_the_busy_core_and_does_not_collapse(base_engine, hear):
    """Two threads beside a program that keeps a core busy made every decoding step wait for time
    slices (40-50x slower); the engine now runs on the free core. The bound is loose on purpose:
    it catches the collapse, not a few percent."""
    audio = hear("The pilot announced that the plane would land twenty minutes early. " * 2)
    options = Options(language="en", temperature=0.0, words=False)
    most = base_engine._threads.most
    quiet = min(_seconds(base_engine, audio, options) for _ in range(2))
    loop = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        busy = _seconds(base_engine, audio, options)
        assert base_engine._threads.count == max(1, most - 1)
    finally:
        loop.kill()
        loop.wait()
    assert busy < 5 * quiet, f"{busy:.2f} s beside a busy core, {quiet:.2f} s quiet"


def _seconds(engine, audio, options) -> float:
    started = time.perf_counter()
    engine.transcribe(audio, options)
    return time.perf_counter() - started
