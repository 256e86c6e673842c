"""Driving the recorder page in Debian's chromium: the browser with its fake microphone, one page
of the app with what the browser complained about, and the page's controls.

Chromium's fake capture device plays a looping WAV (espeak-ng speech followed by silence) as the
microphone, so the page records, uploads and transcribes exactly as it does for a person. The
fixtures built on this are in ``tests/browser/conftest.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.helpers import ROOT

try:
    from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright
except ImportError:  # the fixture skips (or fails in CI) with the reason
    Browser = Locator = Page = Playwright = object
    expect = sync_playwright = None

OUTPUT = ROOT / "test-output" / "ui"
PHRASE = "three seven stop go"
COMMON_ARGS = [
    "--use-fake-device-for-media-stream",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
#: Keeps every text the status line and the progress panel showed, so short-lived states can be checked.
WATCH_STATUS = """
window.__shown = [];
document.addEventListener("DOMContentLoaded", () => {
    for (const id of ["status", "working"]) {
        const node = document.getElementById(id);
        const keep = () => window.__shown.push(node.textContent.replace(/\\s+/g, " ").trim());
        new MutationObserver(keep).observe(node, { childList: true, characterData: true, subtree: true });
    }
});
"""


def launch(playwright: Playwright, *extra: str) -> Browser:
    return playwright.chromium.launch(
        executable_path=playwright.chromium_executable, headless=True, args=[*COMMON_ARGS, *extra]
    )


@dataclass
class Session:
    """One page of the app plus what the browser complained about while it ran."""

    page: Page
    name: str
    errors: list[str] = field(default_factory=list)

    @property
    def status(self):
        return self.page.locator("#status")

    @property
    def transcript(self):
        return self.page.get_by_test_id("transcript")

    def shot(self, suffix: str = "") -> Path:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        path = OUTPUT / f"{self.name}{'-' + suffix if suffix else ''}.png"
        self.page.screenshot(path=str(path))
        return path

    def shown(self) -> list[str]:
        """Every text the status line and the progress panel showed, in order."""
        return self.page.evaluate("window.__shown")

    def assert_shown(self, *fragments: str) -> None:
        """Each fragment appeared, in this order."""
        shown, position = self.shown(), 0
        for fragment in fragments:
            hits = [i for i, text in enumerate(shown) if i >= position and fragment in text]
            assert hits, f"{fragment!r} was never shown after {shown[position - 1 : position]}: {shown}"
            position = hits[0] + 1

    def assert_no_console_errors(self) -> None:
        assert self.errors == [], f"the browser console reported errors: {self.errors}"


def record_button(page):
    return page.get_by_role("button", name=re.compile(r"^(Record|Stop recording)$"))


def import_as(session: Session, name: str, wav: Path) -> None:
    """Import ``wav`` through the file input under another file name."""
    files = {"name": name, "mimeType": "audio/wav", "buffer": wav.read_bytes()}
    session.page.locator("#file-input").set_input_files(files)
