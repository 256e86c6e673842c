"""The two pages the launcher shows itself: "starting" while the backend loads, and a start-up error.

They are inline HTML (no server needed yet), so the window has something to paint within a second
of launch instead of a blank rectangle. They wear the recorder page's fonts and colours, light and
dark: its ui/css/theme.css is read once, here, and inlined, so the colours live in one file.
"""

from __future__ import annotations

import re
import sys
from html import escape
from pathlib import Path

#: The recorder page's design tokens; ui/ is found as ``backend.app.ui_folder`` finds it (next to the
#: package, or inside the PyInstaller bundle), without importing the backend this early.
THEME = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent)) / "ui" / "css" / "theme.css"
_THEME_CSS = THEME.read_text(encoding="utf-8")
#: The window's colour before the first paint: the page's light background.
BACKGROUND = re.search(r"--bg:\s*(#[0-9a-fA-F]{6})\s*;", _THEME_CSS).group(1)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hush</title>
<meta name="color-scheme" content="light dark">
<style>
{theme}
  html, body {{ height: 100%; margin: 0; }}
  body {{ display: grid; place-items: center; background: var(--bg); color: var(--text); cursor: default;
         font: 15px/1.5 var(--font); }}
  main {{ text-align: center; max-width: 34rem; padding: 2rem; }}
  svg {{ width: 64px; height: 64px; }}
  h1 {{ font-size: 1.5rem; margin: 1rem 0 .25rem; }}
  p {{ color: var(--muted); margin: .25rem 0; }}
  .error {{ color: var(--error); white-space: pre-wrap; }}
  .bars path {{ animation: pulse 1.2s ease-in-out infinite; transform-origin: center; }}
  .bars path:nth-child(2) {{ animation-delay: .15s; }} .bars path:nth-child(3) {{ animation-delay: .3s; }}
  .bars path:nth-child(4) {{ animation-delay: .45s; }} .bars path:nth-child(5) {{ animation-delay: .6s; }}
  @keyframes pulse {{ 50% {{ transform: scaleY(.45); }} }}
  @media (prefers-reduced-motion: reduce) {{ .bars path {{ animation: none; }} }}
</style></head>
<body><main role="status" aria-live="polite">
  <svg viewBox="0 0 64 64" aria-hidden="true"><rect width="64" height="64" rx="16" fill="var(--accent)"/>
    <g class="{bars}" fill="none" stroke="#fff" stroke-width="5" stroke-linecap="round">
      <path d="M14 30v4"/><path d="M23 24v16"/><path d="M32 17v30"/><path d="M41 24v16"/><path d="M50 30v4"/></g></svg>
  <h1>{title}</h1>
  {body}
</main></body></html>
"""


def starting() -> str:
    return _PAGE.format(
        theme=_THEME_CSS,
        bars="bars",
        title="Starting Hush…",
        body="<p>Loading the speech engine. This takes a few seconds.</p>",
    )


def failed(message: str) -> str:
    body = f'<p class="error">{escape(message)}</p><p>Close this window and try again, or start Hush with --debug.</p>'
    return _PAGE.format(theme=_THEME_CSS, bars="", title="Hush could not start", body=body)
