"""The browser tests' fixtures: Playwright on Debian's chromium, a browser whose fake microphone plays
a spoken phrase (one per test module), and ``open_page`` for a fresh page of the app per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.browser import (
    PHRASE,
    WATCH_STATUS,
    Browser,
    Playwright,
    Session,
    expect,
    launch,
    sync_playwright,
)
from tests.support.helpers import require_tool


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright driving Debian's chromium; no chromium fails in CI and skips elsewhere."""
    if sync_playwright is None:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    executable = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else require_tool("chromium")
    with sync_playwright() as pw:
        pw.chromium_executable = executable
        expect.set_options(timeout=20_000)
        yield pw


@pytest.fixture(scope="module")
def fake_mic(speak) -> Path:
    """What the fake microphone hears, over and over: the phrase with a second of silence around it."""
    return speak(PHRASE, pad_seconds=1.0)


@pytest.fixture(scope="module")
def browser(playwright, fake_mic) -> Iterator[Browser]:
    """Microphone permission granted (fake UI), the fake device playing ``fake_mic``."""
    browser = launch(playwright, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={fake_mic}")
    yield browser
    browser.close()


@pytest.fixture
def open_page(request, browser) -> Iterator[Callable[..., Session]]:
    """``open_page(server, width=800, height=600, dark=False)`` → a Session on the app.

    Leaves ``test-output/ui/<test>.png`` with the final state of every page it opened.
    """
    contexts: list[tuple[object, Session]] = []

    def open_(
        server,
        *,
        width: int = 800,
        height: int = 600,
        dark: bool = False,
        on: Browser | None = None,
        wait_ready: bool = True,
        init_script: str | None = None,
        before_load: Callable | None = None,
    ) -> Session:
        context = (on or browser).new_context(
            viewport={"width": width, "height": height},
            color_scheme="dark" if dark else "light",
            accept_downloads=True,
            base_url=server.url,
        )
        context.add_init_script(WATCH_STATUS)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        name = request.node.name + (f"-{len(contexts)}" if contexts else "")
        session = Session(page, name)
        page.on("console", lambda m: session.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: session.errors.append(f"uncaught: {e}"))
        if before_load:
            before_load(page)
        page.goto(f"/?token={server.token}")  # as the desktop window and `python -m backend` do
        if wait_ready:
            expect(page.locator("#model-pill")).to_have_attribute("data-state", "ready")
        contexts.append((context, session))
        return session

    yield open_
    for context, session in contexts:
        try:
            session.shot()
        finally:
            context.close()
