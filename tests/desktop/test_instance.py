"""One Hush per user (``desktop/instance.py``): the lock, the instance file, a crash's stale lock."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap

from desktop import instance
from tests.support.helpers import ROOT, wait_until


def test_the_second_claim_finds_the_lock_taken(tmp_path):
    first, second = instance.Lock(tmp_path), instance.Lock(tmp_path)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_the_instance_file_is_the_owners_alone_and_goes_with_the_lock(tmp_path):
    lock = instance.Lock(tmp_path)
    assert lock.acquire()
    running = lock.publish("http://127.0.0.1:1234/", "secret-token")
    path = tmp_path / instance.INSTANCE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert instance.read(tmp_path) == running == instance.Running(os.getpid(), "http://127.0.0.1:1234/", "secret-token")
    lock.release()
    assert not path.exists() and instance.read(tmp_path) is None


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    holder = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from desktop import instance
        lock = instance.Lock(Path({str(tmp_path)!r}))
        assert lock.acquire()
        lock.publish("http://127.0.0.1:9/", "old-token")
        print("held", flush=True)
        time.sleep(600)
    """)
    process = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "held"
        assert not instance.Lock(tmp_path).acquire()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    assert instance.read(tmp_path).token == "old-token"  # the crash left its file behind ...
    claimed = instance.claim(tmp_path, [], wait=5)  # ... but not its lock
    assert isinstance(claimed, instance.Lock)
    claimed.publish("http://127.0.0.1:10/", "new-token")
    assert instance.read(tmp_path).token == "new-token"
    claimed.release()


def test_a_holder_that_never_answers_ends_in_a_sentence(tmp_path):
    holder = instance.Lock(tmp_path)
    assert holder.acquire()
    holder.publish("http://127.0.0.1:9/", "token")  # port 9: nothing listens
    try:
        instance.claim(tmp_path, [], wait=0.5)
    except instance.NotReached as error:
        assert "already running" in str(error) and "start Hush again" in str(error)
    else:
        raise AssertionError("claim did not give up")
    finally:
        holder.release()


def test_a_lock_freed_while_waiting_is_taken(tmp_path):
    holder = instance.Lock(tmp_path)
    assert holder.acquire()  # holds the lock but has not published: it is starting, or closing
    import threading

    threading.Timer(0.3, holder.release).start()
    claimed = wait_until(lambda: instance.claim(tmp_path, [], wait=5), 10, "the freed lock")
    assert isinstance(claimed, instance.Lock)
    claimed.release()
