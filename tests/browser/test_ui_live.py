"""Live transcription in chromium: words appear while the fake microphone speaks, the full transcript at Stop.

The fake microphone plays a ~12 s espeak-ng paragraph (over and over: chromium loops the file);
the server runs real whisper-tiny.en (where time matters: it is what keeps up on two busy cores).
"""

from __future__ import annotations

import itertools
import re
import time

import numpy as np
import pytest

from tests.support.browser import OUTPUT, expect, launch, record_button
from tests.support.real_weights import content_words, overlap, words

pytestmark = pytest.mark.browser

PARAGRAPH = (
    "The morning train was late again. Anna walked to the bakery and bought fresh bread. "
    "Her brother called to say the garden needs water. Tomorrow they will paint the blue fence."
)
#: Wraps WebSocket so a test can drop the live socket the way a network or server hiccup would.
KEEP_SOCKETS = """
window.__sockets = [];
const RealSocket = window.WebSocket;
window.WebSocket = class extends RealSocket {
    constructor(...args) { super(...args); window.__sockets.push(this); }
};
"""


@pytest.fixture(scope="module")
def paragraph_mic(speak):
    return speak(PARAGRAPH, pad_seconds=1.0)


@pytest.fixture(scope="module")
def paragraph_browser(playwright, paragraph_mic):
    browser = launch(playwright, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={paragraph_mic}")
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def paragraph_once_browser(playwright, speak):
    """The paragraph then 25 s of silence: a recording of half a minute hears it once. Said twice in
    one window, its text compresses like a loop, and Whisper's fallback then samples hotter guesses."""
    mic = speak(PARAGRAPH, pad_seconds=1.0, trail_seconds=25.0)
    browser = launch(playwright, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={mic}")
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def tiny_server(start_server, tiny_en_converted):
    server = start_server(model=tiny_en_converted)
    server.wait_until_ready(300)
    return server


def live_text(page) -> str:
    return page.get_by_test_id("live-text").inner_text()


def test_words_appear_while_speaking_then_the_full_transcript_replaces_them(
    open_page, paragraph_once_browser, tiny_server
):
    session = open_page(tiny_server, on=paragraph_once_browser, width=1000, height=760)
    page = session.page
    record_button(page).click()
    live = page.locator("#live")
    expect(live).to_be_visible()
    expect(page.locator("#live-confirmed")).not_to_be_empty(timeout=20_000)
    seen: list[str] = []
    deadline = time.monotonic() + 19
    while time.monotonic() < deadline:  # the paragraph is ~12 s: watch the confirmed text grow
        seen.append(page.locator("#live-confirmed").inner_text())
        page.wait_for_timeout(250)
    heard = live_text(page)
    page.screenshot(path=str(OUTPUT / "live-text.png"))
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(seen)), "confirmed words changed"
    assert overlap(PARAGRAPH, heard) >= 0.5, f"before Stop the page showed only: {heard!r}"
    assert len(words(seen[-1])) >= 8, seen[-1]

    record_button(page).click()
    expect(session.transcript).to_be_visible(timeout=60_000)
    expect(live).to_be_hidden()
    final = session.transcript.inner_text()
    assert overlap(PARAGRAPH, final) >= 0.6, final
    session.assert_no_console_errors()


def test_a_dropped_socket_pauses_live_text_and_loses_nothing(open_page, paragraph_browser, tiny_server):
    session = open_page(tiny_server, on=paragraph_browser, init_script=KEEP_SOCKETS)
    page = session.page
    record_button(page).click()
    expect(page.locator("#live-confirmed")).not_to_be_empty(timeout=20_000)
    before = page.locator("#live-confirmed").inner_text()
    page.evaluate("window.__sockets[0].close()")
    expect(page.locator("#live")).to_have_attribute("data-status", "paused")
    expect(page.locator("#live-state")).to_contain_text("Your recording goes on")
    expect(page.locator("#record")).to_have_attribute("data-recording", "true")
    expect(page.locator("#live")).to_have_attribute("data-status", "live", timeout=10_000)  # back again
    expect(page.locator("#live-confirmed")).not_to_have_text(re.compile(rf"^{re.escape(before)}$"), timeout=20_000)
    assert page.locator("#live-confirmed").inner_text().startswith(before)
    assert page.evaluate("window.__sockets.length") == 2
    page.wait_for_timeout(6_000)
    record_button(page).click()
    expect(session.transcript).to_be_visible(timeout=60_000)
    final = session.transcript.inner_text()
    # The whole recording was uploaded and transcribed, the gap included.
    assert len(content_words(PARAGRAPH) & set(words(final))) >= 0.6 * len(content_words(PARAGRAPH)), final


def test_an_imported_long_file_shows_its_text_window_by_window(
    open_page, start_server, tiny_en_converted, speak, tmp_path
):
    """Decoded window after window (the sequential long form), the text so far shows before the transcript is done."""
    from backend.audio import decode
    from tests.support.media import encode

    server = start_server(model=tiny_en_converted, long_form="sequential")
    server.wait_until_ready(300)
    sentence = decode(speak("the museum will be closed on monday for repairs"))
    pause = np.zeros(16_000 * 3, np.float32)
    lecture = encode(np.concatenate([sentence, pause] * 14), 16_000, tmp_path / "lecture.flac", "flac")  # ~90 s
    session = open_page(server)
    page = session.page
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import a file").click()
    chooser.value.set_files(str(lecture))
    so_far = page.get_by_test_id("so-far")
    expect(so_far).to_contain_text(re.compile("museum", re.IGNORECASE), timeout=60_000)
    expect(session.transcript).to_be_hidden()  # the text so far came before the whole transcript
    page.screenshot(path=str(OUTPUT / "import-so-far.png"))
    expect(session.transcript).to_be_visible(timeout=120_000)
    expect(so_far).to_be_hidden()
    assert session.transcript.inner_text().lower().count("museum") >= 10
