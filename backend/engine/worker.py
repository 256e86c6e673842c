"""The one thread that runs the model: live updates first, file jobs window by window in between.

Two CPU cores cannot run two transcriptions at once any faster than one after the other,
so all inference goes through one thread. Live transcription must not wait for a long
file, and a long file must not stall behind a talkative live session:

- a live update is run before any queued file job, and a running file job hands the
  thread to the live updates waiting between its windows (``serve_live``: the sequential
  path calls it at each window, the batched path before each chunk's encoding and every
  few dozen decoding steps), so live text waits at most one window's work;
- a live session has at most one update pending or running (it asks for the next one
  when the last one has answered), so between two windows of a file job run at most one
  update per live session: the file job still moves on by a window every round.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from backend.transcript import Priority

log = logging.getLogger(__name__)


@dataclass
class Task:
    future: Future[Any]
    run: Callable[[], Any]

    def __call__(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return  # cancelled while it waited
        try:
            result = self.run()
        except BaseException as error:  # the caller's future carries it; the thread goes on
            self.future.set_exception(error)
        else:
            self.future.set_result(result)


class InferenceWorker:
    """A single worker thread with a live queue that overtakes the file queue."""

    def __init__(self, name: str = "hush-inference", before_each: Callable[[], Any] | None = None) -> None:
        """``before_each`` runs on the worker thread before every task (it sizes torch's threads)."""
        self._name = name
        self._before_each = before_each
        self._queues: dict[Priority, deque[Task]] = {Priority.LIVE: deque(), Priority.FILE: deque()}
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._shutdown = False

    def submit(self, run: Callable[..., Any], *args: Any, priority: Priority = Priority.FILE) -> Future[Any]:
        """Queue ``run(*args)``; its future is cancellable until it starts."""
        future: Future[Any] = Future()
        with self._wake:
            if self._shutdown:
                raise RuntimeError("The inference worker has been shut down.")
            self._queues[priority].append(Task(future, lambda: run(*args)))
            if self._thread is None:
                # A daemon: an idle worker must not keep the process alive. Stopping waits for the
                # running job to record how it ended (Jobs.wait_idle) before the process leaves.
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            self._wake.notify()
        return future

    def serve_live(self) -> None:
        """Run the live updates waiting now; called on the worker thread between a file job's windows.

        Only those already waiting: updates that arrive meanwhile wait for the next window."""
        if threading.current_thread() is not self._thread:
            return
        with self._wake:
            waiting = list(self._queues[Priority.LIVE])
            self._queues[Priority.LIVE].clear()
        for task in waiting:
            if self._before_each is not None:
                self._before_each()
            task()

    def shutdown(self, cancel_pending: bool, timeout: float | None = None) -> None:
        """Take no more work; drop what waits (``cancel_pending``) or let it finish first. With a
        ``timeout``, wait up to that long for the thread to end: a process that exits while the
        thread is still in torch's code can abort ("terminate called without an active exception")."""
        with self._wake:
            self._shutdown = True
            if cancel_pending:
                for queue in self._queues.values():
                    while queue:
                        queue.popleft().future.cancel()
            self._wake.notify()
        thread = self._thread
        if timeout is not None and thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _next(self) -> Task | None:
        with self._wake:
            while True:
                for priority in (Priority.LIVE, Priority.FILE):
                    if self._queues[priority]:
                        return self._queues[priority].popleft()
                if self._shutdown:
                    return None
                self._wake.wait()

    def _loop(self) -> None:
        while (task := self._next()) is not None:
            if self._before_each is not None:
                self._before_each()
            task()
