"""Start-up: from the process's start to the first 200 from ``/api/health``, then the app, then the model.

    python benchmarks/startup.py [--repeats 5]

Starts ``python -m backend`` and the desktop launcher's server (``python -m desktop
--browser``, with a browser that opens nothing) on a free port and polls ``/api/health``
every 10 ms with the token: the first 200 (the doorway of ``backend/web/starting.py``), the
first answer of the app itself (FastAPI imported), and the model ready (the trained tiny
test model, so torch and transformers dominate). For scale it also times a bare Python
and one that only imports FastAPI and uvicorn. Medians of ``--repeats``; target: health
answered <= 1.0 s after the process starts.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import ROOT, table

MODEL = ROOT / "tests" / "assets" / "tiny-whisper-words"
TOKEN = "startup-benchmark-token-0123456789"
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def health(port: int) -> dict | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/health", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        with _direct.open(request, timeout=2) as response:
            return json.load(response) if response.status == 200 else None
    except OSError:
        return None


def launch(command: list[str], port: int, data: str) -> tuple[float, float, float]:
    """Seconds from the start to the first 200, to the app's own answer, to the model ready."""
    env = {**os.environ, "HUSH_TOKEN": TOKEN, "HUSH_PORT": str(port), "HUSH_DATA_DIR": data, "HUSH_MODEL": str(MODEL)}
    env.update(BROWSER="true", PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = app = None
    try:
        while time.perf_counter() - started < 300:
            answer = health(port)
            now = time.perf_counter() - started
            if answer is not None:
                first = first or now
                if answer["model"]["detail"] != "Starting Hush…":
                    app = app or now
                if answer["model"]["state"] == "ready":
                    return first, app or now, now
            if process.poll() is not None:
                raise SystemExit(f"{' '.join(command)} exited with {process.returncode}")
            time.sleep(0.01)
        raise SystemExit("the model did not load within 300 s")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def seconds(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; median of {args.repeats}", flush=True)
    commands = {
        "python -m backend": [sys.executable, "-m", "backend"],
        "python -m desktop --browser": [sys.executable, "-m", "desktop", "--browser"],
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="hush-startup-") as data:
        for name, command in commands.items():
            runs = []
            for _ in range(args.repeats):
                port = free_port()
                runs.append(launch([*command, *(["--port", str(port)] if "desktop" in name else [])], port, data))
            first, app, ready = (statistics.median(r[i] for r in runs) for i in range(3))
            rows.append((name, f"{first:.2f}", f"{app:.2f}", f"{ready:.2f}", f"{max(r[0] for r in runs):.2f}"))
            print(f"  {name}: health after {first:.2f} s", file=sys.stderr, flush=True)
    bare = statistics.median(seconds("pass") for _ in range(args.repeats))
    web = statistics.median(seconds("import fastapi, uvicorn") for _ in range(args.repeats))
    header = ("process", "first 200 s", "app answers s", "model ready s", "worst first 200 s")
    print(table(rows, header))
    print(f"\nfor scale: python starts in {bare:.2f} s, importing fastapi and uvicorn takes {web:.2f} s")
    print("target: /api/health answered <= 1.0 s after the process starts")


if __name__ == "__main__":
    main()
