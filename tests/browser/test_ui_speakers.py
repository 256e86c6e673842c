"""Speakers on the page (ui/speakers-view.js, ui/speakers.js), in chromium: the "Label speakers" option,
coloured names at each turn, a speaker renamed with the keyboard alone, a segment given to another
speaker, a merge undone, and "Label speakers" run on a stored transcript without speakers.

The stored transcripts are put in the history directly (the page only shows them; labelling itself is
tested in tests/engine and tests/web), except the last test's, labelled by the real engine.
Leaves ``test-output/ui/*-speakers*.png``; with ``HUSH_UPDATE_SCREENSHOTS=1`` also ``docs/screenshot-speakers.png``.
"""

from __future__ import annotations

import io
import os
import shutil

import numpy as np
import pytest

from backend.audio import SAMPLE_RATE
from backend.transcript import Options, Segment, Transcript, Word
from tests.support.browser import OUTPUT, Session, expect
from tests.support.conversations import available, fish_conversation
from tests.support.helpers import ROOT
from tests.support.media import encode

pytestmark = pytest.mark.browser

INTERVIEW = Transcript(
    text="Welcome to the show. Thank you for having me. What brings you here today? A new book, mostly.",
    language="en",
    duration=12.0,
    segments=[
        Segment(
            0.0,
            2.0,
            "Welcome to the show.",
            (Word(0.0, 0.8, "Welcome", 0.9), Word(0.8, 2.0, "to the show.", 0.9)),
            speaker=1,
        ),
        Segment(2.5, 4.5, "Thank you for having me.", speaker=2),
        Segment(5.0, 7.5, "What brings you here today?", speaker=1),
        Segment(8.0, 10.0, "A new book, mostly.", speaker=2),
        Segment(10.2, 12.0, "Mostly.", speaker=3),
    ],
    model="whisper-base",
)


@pytest.fixture(scope="module")
def server(start_server, base_converted, voices_installed):
    live = start_server(model=base_converted)
    live.wait_until_ready(300)
    return live


def stored(server, transcript: Transcript, name: str, tmp_path, audio: np.ndarray | None = None) -> str:
    """A finished job with ``transcript`` in the server's history (its recording: ``audio`` or silence)."""
    samples = audio if audio is not None else np.zeros(int(transcript.duration * SAMPLE_RATE), np.float32)
    wav = encode(samples, SAMPLE_RATE, tmp_path / f"{name}.wav", "wav")
    job = server.jobs.store.add(io.BytesIO(wav.read_bytes()), name, Options())
    server.jobs.store.finish(job.id, transcript)
    return job.id


def opened(session: Session, job_id: str) -> None:
    session.page.locator(f'#history-list > li[data-id="{job_id}"] .history-open').click()
    expect(session.transcript.locator(".segment")).not_to_have_count(0)


def keep_screenshot(session: Session, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{session.name}-{name}.png"
    session.page.locator("#result").screenshot(path=str(path))
    if os.environ.get("HUSH_UPDATE_SCREENSHOTS") and name == "speakers":
        shutil.copyfile(path, ROOT / "docs" / "screenshot-speakers.png")


def test_the_option_asks_for_speakers_and_how_many(open_page, server):
    session = open_page(server, width=1000, height=760)
    page = session.page
    count = page.locator("#speaker-count")
    expect(count).to_be_disabled()
    page.locator("#speakers").check()
    expect(count).to_be_enabled()
    count.select_option("3")
    assert page.evaluate("localStorage.getItem('hush.speakers')") == "3"


def test_names_show_at_each_turn_and_a_speaker_is_renamed_with_the_keyboard(open_page, server, tmp_path):
    job_id = stored(server, INTERVIEW, "interview.wav", tmp_path)
    session = open_page(server, width=1000, height=760)
    page = session.page
    opened(session, job_id)
    names = session.transcript.locator(".segment-speaker:not(.continued)")
    expect(names).to_have_text(["Speaker 1", "Speaker 2", "Speaker 1", "Speaker 2", "Speaker 3"])
    colours = page.evaluate("[...document.querySelectorAll('.segment-speaker')].map((n) => getComputedStyle(n).color)")
    assert colours[0] == colours[2] != colours[1] == colours[3]

    chip = page.locator('.speaker-chip[data-speaker="1"] .speaker-name')
    chip.focus()
    page.keyboard.press("Enter")
    box = page.locator(".speaker-rename")
    expect(box).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("Anna")
    page.keyboard.press("Enter")
    expect(names).to_have_text(["Anna", "Speaker 2", "Anna", "Speaker 2", "Speaker 3"])
    keep_screenshot(session, "speakers")

    # the names travel: the stored transcript, the search
    job = server.jobs.store.get(job_id)
    assert job.transcript.speaker_names()[1] == "Anna"
    assert [j.id for j in server.jobs.store.list("Anna")[0]] == [job_id]
    session.assert_no_console_errors()


def test_a_segment_moves_to_another_speaker_and_a_merge_is_undone(open_page, server, tmp_path):
    job_id = stored(server, INTERVIEW, "panel.wav", tmp_path)
    session = open_page(server, width=1000, height=760, dark=True)
    page = session.page
    opened(session, job_id)
    names = session.transcript.locator(".segment-speaker:not(.continued)")

    page.locator(".segment").nth(4).locator(".segment-text").focus()
    page.keyboard.press("s")  # who speaks this segment
    choice = page.locator(".segment-speaker-choice")
    expect(choice).to_be_focused()
    choice.select_option("2")
    expect(names).to_have_text(["Speaker 1", "Speaker 2", "Speaker 1", "Speaker 2"])

    page.locator('.speaker-chip[data-speaker="2"] .speaker-merge').select_option("1")
    expect(names).to_have_text(["Speaker 1"])
    undo = page.locator(".speaker-unmerge")
    expect(undo).to_have_text("Speaker 2 merged into Speaker 1 · Undo")
    keep_screenshot(session, "speakers-dark")
    undo.click()
    expect(names).to_have_text(["Speaker 1", "Speaker 2", "Speaker 1", "Speaker 2"])
    session.assert_no_console_errors()


def test_label_speakers_on_a_stored_transcript(open_page, server, tmp_path):
    talk = available(lambda: fish_conversation(minutes=0.5, seed=6))
    with encode(talk.audio, SAMPLE_RATE, tmp_path / "fish.wav", "wav").open("rb") as audio:
        job = server.jobs.store.add(audio, "fish.wav", Options())
    server.jobs.start(job).result(timeout=300)
    session = open_page(server, width=1000, height=760)
    page = session.page
    opened(session, job.id)
    expect(session.transcript.locator(".segment-speaker")).to_have_count(0)
    page.locator(".speakers-count").select_option("2")
    page.locator(".speakers-label").click()
    expect(session.transcript.locator(".speaker-chip")).to_have_count(2, timeout=120_000)
    expect(session.transcript.locator(".segment-speaker").first).to_have_text("Speaker 1")
