"""``hush-serve`` refuses, before it starts anything, to serve a cluster anyone could use."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.helpers import ROOT


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
