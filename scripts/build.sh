#!/usr/bin/env bash
# Build Hush as a single executable: dist/hush (Linux), dist/hush.exe (Windows), dist/Hush.app (macOS).
# Usage: bash scripts/build.sh
#   HUSH_BUNDLE_MODEL=<checkpoint folder>  ship a Whisper checkpoint inside (works offline at once)
#   HUSH_BUILD_MODE=onefile                plain PyInstaller onefile (unpacks on every launch)
# Prints the size and the build time; needs the build extra: pip install -e ".[build]".
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python

started=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level "${PYINSTALLER_LOG_LEVEL:-WARN}" build.spec
seconds=$(( $(date +%s) - started ))

for out in dist/hush dist/hush.exe dist/Hush.app; do
  [ -e "$out" ] && printf 'built %s: %s MB in %d s\n' "$out" "$(du -sm "$out" | cut -f1)" "$seconds"
done
exit 0
