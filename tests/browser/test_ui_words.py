"""Words in time and corrections on the page (ui/transcript.js, ui/editor.js), in chromium, with real
whisper-base: the word being spoken lights up, a click on a word plays from it, a segment is
corrected with the keyboard alone and its words are placed again.

Leaves ``test-output/ui/*-words.png`` and ``*-editing.png``; with ``HUSH_UPDATE_SCREENSHOTS=1`` also
``docs/screenshot-words.png`` and ``docs/screenshot-editing.png``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from backend.audio import SAMPLE_RATE
from tests.support.browser import OUTPUT, Session, expect, import_as
from tests.support.helpers import ROOT
from tests.support.media import encode

pytestmark = pytest.mark.browser

SENTENCES = ["Please call my sister tomorrow morning.", "The children are playing in the garden."]
TRANSCRIBED = 120_000  # ms: whisper-base on two shared cores


@pytest.fixture(scope="module")
def base_server(start_server, base_converted):
    live = start_server(model=base_converted)
    live.wait_until_ready(300)
    return live


@pytest.fixture(scope="module")
def sentences_wav(hear, tmp_path_factory) -> Path:
    """The sentences with a second of silence before, between and after them."""
    pause = np.zeros(SAMPLE_RATE, np.float32)
    audio = np.concatenate([pause, *(part for s in SENTENCES for part in (hear(s), pause))])
    return encode(audio, SAMPLE_RATE, tmp_path_factory.mktemp("words") / "sentences.wav", "wav")


def transcribed(session: Session, wav: Path) -> list[dict]:
    """Import ``wav`` and wait for its words on the page; the segments the page shows."""
    import_as(session, "sentences.wav", wav)
    expect(session.transcript.locator(".word").first).to_be_visible(timeout=TRANSCRIBED)
    expect(session.page.locator("#player")).to_have_js_property("readyState", 4)
    return session.page.evaluate("window.hush.selected.result.segments")


def keep_screenshot(session: Session, name: str) -> None:
    """The result card as ``test-output/ui/<test>-<name>.png`` (and the README's picture, if asked)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{session.name}-{name}.png"
    session.page.locator("#result").screenshot(path=str(path))
    if os.environ.get("HUSH_UPDATE_SCREENSHOTS"):
        shutil.copyfile(path, ROOT / "docs" / f"screenshot-{name}.png")


def test_the_spoken_word_lights_up_and_a_click_on_a_word_plays_from_it(open_page, base_server, sentences_wav):
    session = open_page(base_server, width=1000, height=760)
    page = session.page
    segments = transcribed(session, sentences_wav)
    words = [word for segment in segments for word in segment["words"]]
    spans = session.transcript.locator(".segment .word")
    expect(spans).to_have_count(len(words))
    assert len(words) >= 10

    target = next(i for i, w in enumerate(words) if w["word"].startswith("children"))
    start = words[target]["start"]
    spans.nth(target).click()
    page.wait_for_function(
        "(start) => { const t = document.getElementById('player').currentTime; return t >= start && t < start + 0.5; }",
        arg=start,
        timeout=5_000,
    )
    expect(session.transcript.locator(".word.current")).to_have_count(1)

    page.locator("#player").evaluate("(audio, at) => { audio.pause(); audio.currentTime = at; }", start + 0.03)
    expect(session.transcript.locator(".word.current")).to_have_text(words[target]["word"])
    expect(session.transcript.locator(".segment.current")).to_contain_text("children")

    unsure = [bool(v) for v in spans.evaluate_all("spans => spans.map(s => s.classList.contains('unsure'))")]
    assert unsure == [w["probability"] < 0.5 for w in words]
    page.mouse.move(0, 0)
    keep_screenshot(session, "words")
    session.assert_no_console_errors()


def test_a_segment_is_corrected_with_the_keyboard_alone_and_its_words_placed_again(
    open_page, base_server, sentences_wav
):
    session = open_page(base_server, width=1000, height=760)
    page = session.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    segments = transcribed(session, sentences_wav)
    index = next(i for i, s in enumerate(segments) if "sister" in s["text"])
    original = segments[index]["text"]
    fixed = original.replace("sister", "brother")
    row = session.transcript.locator(".segment").nth(index)
    text = row.locator(".segment-text")
    patches = []
    page.on("request", lambda request: patches.append(request.url) if request.method == "PATCH" else None)

    row.get_by_role("button", name=re.compile("^Play from")).focus()
    page.keyboard.press("Tab")
    expect(text).to_be_focused()
    page.keyboard.press("Enter")
    editor = row.get_by_role("textbox")
    expect(editor).to_be_focused()
    expect(editor).to_have_value(original)
    page.keyboard.type(" never mind")
    page.keyboard.press("Escape")
    expect(editor).to_have_count(0)
    expect(text).to_have_text(original)
    expect(text).to_be_focused()
    assert patches == []

    page.keyboard.press("e")
    expect(editor).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type(fixed)
    keep_screenshot(session, "editing")
    with page.expect_response(re.compile(r"/segments/\d+$")) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    expect(row).to_have_class(re.compile(r"\bcorrected\b"))
    expect(text).to_have_text(fixed)
    expect(text).to_be_focused()
    expect(row.locator(".word")).to_have_text(fixed.split())  # realigned: a span in time for each new word
    expect(row.locator(".word.unsure")).to_have_count(0)

    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#toast")).to_contain_text("copied")
    assert "brother" in page.evaluate("navigator.clipboard.readText()")

    row.get_by_role("button", name=re.compile("^Revert to the model's text")).focus()
    page.keyboard.press("Enter")
    expect(row).not_to_have_class(re.compile(r"\bcorrected\b"))
    expect(text).to_have_text(original)
    session.assert_no_console_errors()
