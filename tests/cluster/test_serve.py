"""``hush-serve`` refuses, before it starts anything, to serve a cluster anyone could use; stopped as a
service manager stops it (SIGTERM), it takes the application and its own Ray down."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.cluster.test_deployments import ray_processes
from tests.support.helpers import ROOT, wait_until
from tests.support.peers import free_port


def hush_serve(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HUSH_")}
    return subprocess.run(
        [sys.executable, "-m", "backend.cluster.serve", "--replicas", "1"],
        cwd=ROOT,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_token_it_refuses_to_start_and_says_how():
    result = hush_serve(HUSH_MODEL="openai/whisper-tiny.en")
    assert result.returncode == 1
    assert "hush-serve needs HUSH_TOKEN" in result.stderr and "token_urlsafe" in result.stderr
    assert "Hush is serving" not in result.stdout


def test_beyond_loopback_only_with_the_explicit_opt_in():
    result = hush_serve(HUSH_TOKEN="a-token-that-is-long-enough", HUSH_HOST="0.0.0.0")
    assert result.returncode == 1
    assert "HUSH_ALLOW_REMOTE=1" in result.stderr
    assert "Hush is serving" not in result.stdout


def test_sigterm_takes_the_application_and_its_ray_down(tiny_en_converted, tmp_path):
    temp = Path("/tmp") / f"hush-serve-{os.getpid()}"  # short: Ray's socket paths live under it
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HUSH_")}
    env = {**clean, "PYTHONPATH": str(ROOT), "RAY_TMPDIR": str(temp), "HUSH_TOKEN": "a-token-that-is-long-enough",
           "HUSH_MODEL": str(tiny_en_converted), "HUSH_DATA_DIR": str(tmp_path / "data"),
           "HUSH_PORT": str(free_port())}  # fmt: skip
    out = tmp_path / "out.txt"
    with open(out, "w") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "backend.cluster.serve", "--replicas", "1"],
            cwd=ROOT, env=env, stdout=stdout, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        wait_until(lambda: "Hush is serving" in out.read_text() or process.poll() is not None, 180, "hush-serve")
        assert ray_processes(temp), "Ray runs in the folder the test gave it"
        process.send_signal(signal.SIGTERM)
        assert process.wait(90) == 0
        wait_until(lambda: not ray_processes(temp), 30, "every Ray process of hush-serve to exit")
    finally:
        if process.poll() is None:
            process.kill()
        shutil.rmtree(temp, ignore_errors=True)
