#!/usr/bin/env bash
# Set up Hush in .venv (first run only) and start the desktop app.
# Usage: bash scripts/run.sh [--browser] [--model ID_OR_FOLDER] [--port N] [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q -e .
exec .venv/bin/python -m desktop "$@"
