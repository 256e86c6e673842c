"""The recorder page (``ui/``) in Debian's chromium, with a fake microphone, against a live server.

Chromium's fake capture device plays a looping WAV (espeak-ng speech followed by
silence) as the microphone, so the page records, uploads and transcribes exactly as
it does for a person. One browser serves the whole module; each test gets a fresh
context (and so fresh storage) and leaves a screenshot in ``test-output/ui/``.
Set ``HUSH_UPDATE_SCREENSHOTS=1`` to also refresh ``docs/screenshot-browser.png``.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import av
import pytest

from tests.support.browser import (
    PHRASE,
    Browser,
    Locator,
    Session,
    expect,
    import_as,
    launch,
    record_button,
)
from tests.support.helpers import ROOT, require_tool, wait_until

pytestmark = pytest.mark.browser

DOCS_SCREENSHOT = ROOT / "docs" / "screenshot-browser.png"
#: The page's uploads (answered 202 with the queued job) and its polls of one job by id.
UPLOAD = "**/api/transcriptions?wait=false"
JOB = re.compile(r"/api/transcriptions/[^/?]+$")
SRT_TIMING = re.compile(r"^(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)$")
VTT_TIMING = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)$")


# -- browser and pages -----------------------------------------------------------------------
@pytest.fixture
def denying_browser(playwright, fake_mic) -> Iterator[Browser]:
    """No fake permission UI: headless chromium refuses the microphone, as a person clicking Block would."""
    browser = launch(playwright, f"--use-file-for-fake-audio-capture={fake_mic}")
    yield browser
    browser.close()


# -- helpers ---------------------------------------------------------------------------------------
def record_for(session: Session, seconds: float) -> tuple[float, object]:
    """Click Record, wait, click Stop; returns (seconds between the clicks, the upload's response)."""
    page = session.page
    button = record_button(page)
    expect(button).to_have_accessible_name("Record")
    started = time.monotonic()
    button.click()
    expect(button).to_have_accessible_name(re.compile("Stop"))
    expect(session.status).to_contain_text("Recording")
    page.wait_for_timeout(max(0, seconds - (time.monotonic() - started)) * 1000)
    with page.expect_response(UPLOAD, timeout=60_000) as response:
        stopped = time.monotonic()
        button.click()
    return stopped - started, response.value


@dataclass
class Received:
    """What the server got: the upload as described in its messages, its bytes, and the options."""

    description: str
    data: bytes
    options: list = field(default_factory=list)


@pytest.fixture
def spy(monkeypatch) -> Callable[..., list[Received]]:
    """``spy(server)`` → the list of uploads the server decodes and the options it transcribes with."""
    from backend import audio
    from backend.transcript import Priority

    received: list[Received] = []
    decode = audio.decode

    def recording_decode(source, name="the file", *args):
        position = source.tell()
        received.append(Received(name, source.read()))
        source.seek(position)
        return decode(source, name, *args)

    monkeypatch.setattr(audio, "decode", recording_decode)

    def watch(server) -> list[Received]:
        submit = server.engine.submit

        def recording_submit(request):
            if request.priority is Priority.FILE:  # live text's passes are not the upload's transcription
                received[-1].options.append(request.options)
            return submit(request)

        monkeypatch.setattr(server.engine, "submit", recording_submit)
        return received

    return watch


def probe(data: bytes) -> tuple[str, str, float]:
    """Container format, audio codec and decoded duration of an encoded file."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return container.format.name, stream.codec_context.name, samples / stream.codec_context.sample_rate


def cue_starts(text: str, pattern: re.Pattern) -> list[float]:
    starts = []
    for line in text.splitlines():
        match = pattern.match(line.strip())
        if match:
            h, m, s, ms, h2, m2, s2, ms2 = map(int, match.groups())
            start, end = h * 3600 + m * 60 + s + ms / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
            assert end >= start, line
            starts.append(start)
    return starts


def drop_file(page, path: Path, mime: str) -> None:
    """Drag ``path`` over the page and drop it, as a file manager would."""
    data = base64.b64encode(path.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """([data, name, type]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type }));
            return transfer;
        }""",
        [data, path.name, mime],
    )
    page.dispatch_event("body", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#drop-overlay")).to_be_visible()
    page.dispatch_event("body", "drop", {"dataTransfer": transfer})
    expect(page.locator("#drop-overlay")).to_be_hidden()


def update_docs_screenshot(session: Session) -> None:
    """The README's picture: the page down to its last card (set HUSH_UPDATE_SCREENSHOTS=1)."""
    path = session.shot("docs")
    if os.environ.get("HUSH_UPDATE_SCREENSHOTS"):
        bottom = max(box["y"] + box["height"] for box in map(Locator.bounding_box, session.page.locator(".card").all()))
        clip = {"x": 0, "y": 0, "width": session.page.viewport_size["width"], "height": bottom + 24}
        session.page.screenshot(path=str(path), clip=clip)
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOT)


@pytest.fixture(scope="module")
def big_wav(tmp_path_factory) -> Path:
    """About 1.3 MB of tone: over a 1 MB upload limit."""
    path = tmp_path_factory.mktemp("big") / "long-tone.wav"
    sox = require_tool("sox")
    subprocess.run(
        [sox, "-n", "-r", "16000", "-b", "16", "-c", "1", str(path), "synth", "42", "sine", "440"], check=True
    )
    return path


@pytest.fixture
def hold_jobs(monkeypatch) -> Iterator[Callable[..., threading.Event]]:
    """``gate = hold_jobs(server, at=0.0)``: every job stops at its first progress report (shown as at
    least ``at`` done) until ``gate.set()``, and notices a cancel meanwhile. Gates open when the test ends."""
    from backend.transcript import Cancelled, Priority

    gates: list[threading.Event] = []

    def hold(live, at: float = 0.0) -> threading.Event:
        gate, real_submit = threading.Event(), live.engine.submit

        def held_submit(request):
            if request.priority is Priority.LIVE:  # live text's passes are not held
                return real_submit(request)

            def progress(done: float) -> None:
                request.on_progress(max(done, at))
                while not gate.wait(0.05):
                    if request.cancel.is_set():
                        raise Cancelled("The transcription was cancelled.")

            return real_submit(replace(request, on_progress=progress))

        monkeypatch.setattr(live.engine, "submit", held_submit)
        gates.append(gate)
        return gate

    yield hold
    for gate in gates:
        gate.set()  # no job of a failed test stays held on a shared server


def new_job_id(session: Session, known: list[str]) -> str:
    """The id of the job the page's selected item follows, once the server has named it (not one of ``known``)."""
    handle = session.page.wait_for_function(
        "(known) => { const id = window.hush.selected?.jobId; return id && !known.includes(id) ? id : null; }",
        arg=known,
        timeout=30_000,
    )
    return handle.json_value()


def spoken(phrase: str) -> re.Pattern:
    return re.compile(r"\W+".join(phrase.split()), re.IGNORECASE)


# -- the happy paths -----------------------------------------------------------------------------------
def test_record_stop_uploads_webm_opus_and_shows_the_transcript(open_page, random_server, spy):
    session = open_page(random_server)
    page = session.page
    expect(session.status).to_have_text("Ready to record")
    expect(page.get_by_test_id("transcript")).to_be_hidden()
    # The language list comes from the model, with human names.
    expect(page.locator("#language option[value='de']")).to_have_text("German")
    expect(page.locator("#language option").first).to_have_text("Auto-detect")

    received = spy(random_server)
    between_clicks, response = record_for(session, 3.0)
    assert response.status == 202, response.text()
    job_id = response.json()["id"]
    expect(session.transcript).to_be_visible()
    with random_server.client() as client:
        result = client.get(f"/api/transcriptions/{job_id}").json()
    assert result["status"] == "done", result

    [upload] = received
    assert upload.description.startswith("'recording.webm'")
    assert upload.description.endswith("audio/webm;codecs=opus)")
    [options] = upload.options
    assert (options.language, options.task) == (None, "transcribe")
    container, codec, decoded = probe(upload.data)
    assert "webm" in container and codec == "opus", (container, codec)
    assert abs(result["duration"] - between_clicks) <= 0.5, (result["duration"], between_clicks)
    assert abs(decoded - result["duration"]) <= 0.1, (decoded, result["duration"])

    expect(session.transcript).to_be_visible()
    expect(session.transcript).to_contain_text(result["segments"][0]["text"])
    assert session.transcript.inner_text().strip()
    expect(session.status).to_contain_text("Done")
    session.assert_shown("Waiting for permission", "Recording…", "Uploading…", "Transcribing…", "Done: ")
    expect(page.locator("#item-meta")).to_contain_text("English")
    assert page.locator("#player").evaluate("a => a.src").startswith("blob:")
    # Having been allowed once, the picker names the microphones, and remembers the choice.
    microphones = page.locator("#microphone option")
    assert microphones.count() > 1
    chosen = microphones.nth(microphones.count() - 1).get_attribute("value")
    page.locator("#microphone").select_option(chosen)
    page.reload()
    expect(page.locator("#microphone")).to_have_value(chosen)
    session.assert_no_console_errors()


def test_import_file_through_the_file_picker(open_page, random_server, speak, spy):
    wav = speak(PHRASE)
    received = spy(random_server)
    session = open_page(random_server, width=1280, height=800, dark=True)
    page = session.page
    page.locator("#language").select_option("en")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import a file").click()
    with page.expect_response(UPLOAD, timeout=60_000):
        chooser.value.set_files(str(wav))
    [upload] = received
    assert upload.description.startswith(f"'{wav.name}'")
    assert upload.data == wav.read_bytes()
    assert upload.options[0].language == "en"
    expect(session.transcript).to_be_visible()
    expect(session.transcript).to_have_text(re.compile(r"\w"))
    expect(page.locator("#result-title")).to_have_text(wav.name)
    session.shot("done")

    # The choice of language is remembered.
    page.reload()
    expect(page.locator("#model-pill")).to_have_attribute("data-state", "ready")
    expect(page.locator("#language")).to_have_value("en")
    session.assert_no_console_errors()


def test_drop_a_file_on_the_page(open_page, random_server, speak):
    wav = speak(PHRASE)
    session = open_page(random_server, dark=True)
    with session.page.expect_response(UPLOAD, timeout=60_000):
        drop_file(session.page, wav, "audio/wav")
    expect(session.transcript).to_have_text(re.compile(r"\w"))
    session.assert_no_console_errors()


def test_segment_click_seeks_the_player_and_exports_download(open_page, random_server):
    """The page shows the segments the server sent; a fixed set makes the seek positions known."""
    segments = [
        {"start": 0.0, "end": 1.0, "text": "three seven"},
        {"start": 1.0, "end": 2.0, "text": "stop"},
        {"start": 2.0, "end": 2.5, "text": "go"},
    ]

    def with_known_segments(route):
        response = route.fetch()
        body = response.json()
        if body.get("status") == "done":
            body.update(text="three seven stop go", segments=segments)
        route.fulfill(response=response, json=body)

    session = open_page(random_server, width=1280, height=800)
    page = session.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.route(JOB, with_known_segments)
    record_for(session, 3.0)
    expect(session.transcript.locator(".segment")).to_have_count(3)

    player = page.locator("#player")
    expect(player).to_have_js_property("readyState", 4)
    session.transcript.get_by_text("stop", exact=True).click()
    page.wait_for_function("document.getElementById('player').currentTime >= 1.0")
    position = player.evaluate("a => a.currentTime")
    assert 1.0 <= position < 1.8, position
    expect(session.transcript.locator(".segment.current")).to_contain_text("stop")
    session.transcript.get_by_role("button", name="Play from 0:02").click()
    page.wait_for_function("document.getElementById('player').currentTime >= 2.0")
    player.evaluate("a => a.pause()")
    page.mouse.move(0, 0)
    update_docs_screenshot(session)

    # Copy, then the server-rendered downloads.
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#toast")).to_contain_text("copied")
    assert page.evaluate("navigator.clipboard.readText()") == "three seven stop go"

    def download(label: str, role: str = "button"):
        page.locator("#download-menu").get_by_text("Download", exact=True).click()
        with page.expect_download() as info:
            page.locator(".menu-list").get_by_role(role, name=re.compile(f"^{label} ")).click()
        return info.value

    srt = download("Subtitles")
    assert re.fullmatch(r"hush-recording-[\d-]+\.srt", srt.suggested_filename)
    srt_text = Path(srt.path()).read_text()
    assert cue_starts(srt_text, SRT_TIMING) == [0.0, 1.0, 2.0]
    assert [line for line in srt_text.splitlines() if line.strip().isdigit()] == ["1", "2", "3"]

    vtt_text = Path(download("Web subtitles").path()).read_text()
    assert vtt_text.startswith("WEBVTT")
    assert cue_starts(vtt_text, VTT_TIMING) == [0.0, 1.0, 2.0]

    assert Path(download("Text").path()).read_text() == "three seven stop go\n"
    exported = json.loads(Path(download("JSON with timings").path()).read_text())
    assert exported["segments"] == [{**s, "words": []} for s in segments] and exported["language"] == "en"

    recording = download("Recording", "link")
    assert recording.suggested_filename.endswith(".webm")
    assert Path(recording.path()).read_bytes()[:4] == b"\x1a\x45\xdf\xa3"  # EBML: WebM

    page.get_by_role("button", name="Text", exact=True).click()
    expect(session.transcript.locator(".plain-text")).to_have_text("three seven stop go")
    session.assert_no_console_errors()


def test_space_and_r_toggle_recording(open_page, random_server):
    session = open_page(random_server)
    page = session.page
    button = record_button(page)
    page.locator("body").click(position={"x": 5, "y": 300})  # focus on nothing in particular
    page.keyboard.press("Space")
    expect(button).to_have_accessible_name(re.compile("Stop"))
    page.wait_for_timeout(1500)
    with page.expect_response(UPLOAD, timeout=60_000):
        page.keyboard.press("r")
    expect(button).to_have_accessible_name("Record")
    expect(session.transcript).to_have_text(re.compile(r"\w"))

    # On the focused Record button, Space presses it once (not twice).
    button.focus()
    page.keyboard.press("Space")
    expect(button).to_have_accessible_name(re.compile("Stop"))
    # A second press would have stopped it at once: the clock (reset to 0:00 at the start) reaching a
    # second shows the recording went on.
    expect(page.locator("#timer")).to_have_text("0:01")
    expect(button).to_have_accessible_name(re.compile("Stop"))
    page.keyboard.press("Space")
    expect(button).to_have_accessible_name("Record")
    expect(page.locator("#session-list li")).to_have_count(2)
    # In a list box, R is for the list, not the recorder.
    page.locator("#task").focus()
    page.keyboard.press("r")
    expect(button).to_have_accessible_name("Record")
    expect(session.status).not_to_contain_text("Recording…")
    session.assert_no_console_errors()


# -- the model is not ready -----------------------------------------------------------------------------
def test_missing_model_is_explained_and_the_recording_is_kept(open_page, start_server):
    server = start_server(model="/nonexistent-folder")
    status = server.models.wait_until_loaded(30)
    assert status.state == "missing"
    session = open_page(server, wait_ready=False)
    page = session.page
    uploads = []
    page.on("request", lambda r: uploads.append(r) if "/api/transcriptions" in r.url else None)

    expect(page.locator("#model-pill")).to_have_attribute("data-state", "missing")
    banner = page.locator("#model-banner")
    expect(banner).to_contain_text("No speech model is available.")
    expect(banner).to_contain_text(status.detail)

    button = record_button(page)
    button.click()
    expect(button).to_have_accessible_name(re.compile("Stop"))
    page.wait_for_timeout(1500)
    button.click()
    expect(session.status).to_contain_text("kept")
    expect(session.status).to_contain_text("as soon as the speech model is ready")
    expect(page.locator("#working")).to_contain_text(status.detail)
    expect(page.locator("#player")).to_have_js_property("readyState", 4)
    expect(page.locator("#download-audio")).to_have_attribute("href", re.compile("^blob:"))
    # The page asks /api/health every 2 s while the model is missing. It sends the second request
    # only once it has acted on the first one's answer: still holding, nothing sent.
    for _ in range(2):
        page.wait_for_event("request", lambda r: "/api/health" in r.url, timeout=10_000)
    assert uploads == []
    session.shot("held")

    # Changing one's mind keeps the audio, and the way back.
    page.get_by_role("button", name="Don't transcribe").click()
    notice = page.locator("#item-notice")
    expect(notice).to_contain_text("Not transcribed")
    expect(notice.get_by_role("button", name="Transcribe")).to_be_visible()
    expect(session.status).to_contain_text("The audio is kept")
    session.assert_no_console_errors()


def test_loading_model_holds_the_recording_then_transcribes_it(open_page, random_server):
    """Health says "loading" and the first upload gets a 503, until the model is "ready"."""
    loading = {"on": True}
    answers = []

    def health(route):
        if loading["on"]:
            route.fulfill(
                json={
                    "status": "ok",
                    "model": {"id": "tiny", "state": "loading", "detail": "Loading tiny…", "languages": []},
                    "version": "test",
                }
            )
        else:
            route.continue_()

    def transcriptions(route):
        if not answers:
            answers.append(503)
            route.fulfill(status=503, headers={"Retry-After": "1"}, json={"detail": "Still loading tiny…"})
        else:
            answers.append("real")
            route.continue_()

    def intercept(page):
        page.route("**/api/health", health)
        page.route(UPLOAD, transcriptions)

    session = open_page(random_server, wait_ready=False, before_load=intercept, dark=True)
    page = session.page
    expect(page.locator("#model-pill")).to_have_attribute("data-state", "loading")
    expect(page.locator("#model-banner")).to_contain_text("The speech model is loading. Loading tiny…")

    button = record_button(page)
    button.click()
    expect(button).to_have_accessible_name(re.compile("Stop"))
    page.wait_for_timeout(1500)
    button.click()
    expect(session.status).to_contain_text("as soon as the speech model is ready")
    session.shot("held")
    assert answers == []

    loading["on"] = False
    expect(session.transcript).to_have_text(re.compile(r"\w"))
    expect(session.status).to_contain_text("Done")
    assert answers == [503, "real"]
    session.assert_shown(
        "Waiting for the speech model",  # held: the model is loading
        "Uploading",  # ready: sent
        "Trying again in",  # a 503, whose detail is shown
        "Still loading tiny…",
        "Transcribing",
        "Done",
    )


# -- errors a person can act on ---------------------------------------------------------------------------
def test_microphone_permission_denied_is_explained(denying_browser, open_page, random_server):
    session = open_page(random_server, on=denying_browser)
    page = session.page
    button = record_button(page)
    button.click()
    notice = page.locator("#capture-notice")
    expect(notice).to_contain_text("Hush isn't allowed to use the microphone")
    expect(notice).to_contain_text("site settings")
    expect(notice).to_contain_text("import")
    expect(button).to_have_accessible_name("Record")
    expect(session.status).to_have_text("Ready to record")
    session.shot("denied")
    page.get_by_role("button", name="Dismiss").click()
    expect(notice).to_be_hidden()


def test_no_microphone_is_explained(open_page, random_server):
    no_device = """
        navigator.mediaDevices.getUserMedia = () =>
            Promise.reject(new DOMException("Requested device not found", "NotFoundError"));
    """
    session = open_page(random_server, init_script=no_device)
    record_button(session.page).click()
    notice = session.page.locator("#capture-notice")
    expect(notice).to_contain_text("No microphone found")
    expect(notice).to_contain_text("Connect a microphone")
    session.assert_no_console_errors()


def test_undecodable_file_shows_the_servers_detail(open_page, random_server, tmp_path):
    notes = tmp_path / "notes.mp3"
    notes.write_text("these are not the sounds you are looking for")
    session = open_page(random_server)
    with session.page.expect_response(UPLOAD) as response:
        session.page.locator("#file-input").set_input_files(str(notes))
    assert response.value.status == 400
    detail = response.value.json()["detail"]
    notice = session.page.locator("#item-notice")
    expect(notice).to_contain_text("Hush couldn't read this file")
    expect(notice).to_contain_text(detail)
    expect(session.status).to_contain_text("couldn't read this file")
    expect(notice.get_by_role("button", name="Try again")).to_have_count(0)


def test_unreachable_server_keeps_the_recording_and_tries_again(open_page, random_server):
    session = open_page(random_server)
    page = session.page
    page.route(UPLOAD, lambda route: route.abort("connectionrefused"))
    button = record_button(page)
    button.click()
    expect(button).to_have_accessible_name(re.compile("Stop"))
    page.wait_for_timeout(1200)
    button.click()
    notice = page.locator("#item-notice")
    expect(notice).to_contain_text("Hush can't reach its server")
    expect(notice).to_contain_text("Your recording is kept")
    expect(notice.get_by_role("button", name="Download recording")).to_be_visible()
    session.shot("unreachable")

    page.unroute(UPLOAD)
    with page.expect_response(UPLOAD, timeout=60_000):
        notice.get_by_role("button", name="Try again").click()
    expect(session.transcript).to_have_text(re.compile(r"\w"))
    expect(notice).to_be_hidden()


def test_too_large_upload_shows_the_limit(open_page, start_server, random_checkpoint, big_wav):
    server = start_server(model=random_checkpoint, max_upload_mb=1)
    server.wait_until_ready()
    session = open_page(server)
    uploads: list[str] = []
    session.page.on("request", lambda r: uploads.append(r.url) if "/api/transcriptions" in r.url else None)
    session.page.locator("#file-input").set_input_files(str(big_wav))
    notice = session.page.locator("#item-notice")
    expect(notice).to_contain_text("This file is too large")
    expect(notice).to_contain_text("1 MB limit")
    assert not [u for u in uploads if u.split("?")[0].endswith("/api/transcriptions")]  # refused before sending


# -- the trained checkpoint: the page shows the words the microphone heard ---------------------------------
def test_the_page_shows_the_spoken_words(open_page, words_server, speak):
    """The trained checkpoint hears the fake microphone's phrase, recorded and imported."""
    words = re.compile(r"three\W+seven\W+stop\W+go", re.IGNORECASE)
    session = open_page(words_server, width=1280, height=800)
    page = session.page
    # The fake microphone starts its loop when the recording starts: 1 s silence, the phrase, 1 s silence.
    _, response = record_for(session, 3.4)
    assert response.status == 202
    expect(session.transcript).to_contain_text(words)
    update_docs_screenshot(session)

    with page.expect_response(UPLOAD, timeout=60_000):
        page.locator("#file-input").set_input_files(str(speak(PHRASE)))
    expect(page.locator("#session-list li")).to_have_count(2)
    expect(session.transcript).to_contain_text(words)
    session.assert_no_console_errors()


# -- two pages, one server: each follows and cancels its own job, by id ---------------------------------------
PHRASES = ("one two three", "left right up down")


def jobs_of(live, ids: list[str]) -> list[dict]:
    """The server's view of these jobs, in this order."""
    with live.client() as client:
        return [client.get(f"/api/transcriptions/{job_id}").json() for job_id in ids]


def statuses(live, ids: list[str]) -> list[str]:
    return [job["status"] for job in jobs_of(live, ids)]


def test_two_pages_importing_the_same_file_name_each_show_their_own_transcript(
    open_page, words_server, speak, hold_jobs
):
    """Two tabs import different speech under the same name at the same moment; both jobs are on the
    server before either is transcribed. Each page shows its own words and the server's queue position."""
    gate = hold_jobs(words_server)
    sessions = [open_page(words_server) for _ in PHRASES]
    for session, phrase in zip(sessions, PHRASES):
        import_as(session, "recording.wav", speak(phrase))
    ids = [new_job_id(session, []) for session in sessions]
    assert ids[0] != ids[1]

    def one_running_one_queued() -> list[str] | None:
        found = statuses(words_server, ids)
        return found if sorted(found) == ["queued", "running"] else None

    queued = wait_until(one_running_one_queued, 30, "one job running and one queued behind it").index("queued")
    working = sessions[queued].page.locator("#working")
    expect(working).to_contain_text("Queued on the server")
    expect(working).to_contain_text("1 transcription is ahead of this one.")
    expect(sessions[1 - queued].page.locator("#working-title")).to_have_text(re.compile("^Transcribing"))
    gate.set()

    for i, session in enumerate(sessions):
        expect(session.transcript).to_contain_text(spoken(PHRASES[i]), timeout=60_000)
        expect(session.transcript).not_to_contain_text(spoken(PHRASES[1 - i]))
        expect(session.page.locator("#result-title")).to_have_text("recording.wav")
        session.assert_no_console_errors()
    for job, phrase in zip(jobs_of(words_server, ids), PHRASES):
        assert (job["filename"], job["status"]) == ("recording.wav", "done"), job
        assert spoken(phrase).search(job["text"]), job["text"]


def test_a_page_cancels_only_its_own_job(open_page, start_server, words_checkpoint, speak, hold_jobs):
    """Two tabs import recording.wav at the same moment and one of them cancels: only its job is
    cancelled on the server, the other page's goes on to its transcript. Then the other way round."""
    live = start_server(model=words_checkpoint)
    live.wait_until_ready()
    gate = hold_jobs(live)
    sessions = [open_page(live) for _ in PHRASES]
    known: list[str] = []

    def cancel_on(cancelling: int) -> None:
        going_on = 1 - cancelling
        canceller, other = sessions[cancelling], sessions[going_on]
        gate.clear()
        for session, phrase in zip(sessions, PHRASES):
            import_as(session, "recording.wav", speak(phrase))
        ids = [new_job_id(session, known) for session in sessions]
        known.extend(ids)
        wait_until(lambda: set(statuses(live, ids)) <= {"queued", "running"}, 30, "both jobs queued or running")

        canceller.page.locator("#cancel").click()
        expect(canceller.status).to_have_text("Not transcribed. The audio is kept.")
        expect(canceller.page.locator("#item-notice")).to_contain_text("Not transcribed")
        wait_until(lambda: statuses(live, ids)[cancelling] == "cancelled", 30, "the cancelled job")
        assert statuses(live, ids)[going_on] in ("queued", "running")
        expect(other.page.locator("#working")).to_be_visible()

        gate.set()
        expect(other.transcript).to_contain_text(spoken(PHRASES[going_on]), timeout=60_000)
        expected = ["done", "done"]
        expected[cancelling] = "cancelled"
        assert statuses(live, ids) == expected
        expect(canceller.status).to_have_text("Not transcribed. The audio is kept.")

    cancel_on(0)
    cancel_on(1)
    for session in sessions:
        session.assert_no_console_errors()


def test_history_lists_finds_reopens_retries_and_deletes(open_page, start_server, random_checkpoint, speak):
    """A fresh server: an import lands in the history; an interrupted job can be transcribed again."""
    from backend.engine.engine import Options
    from backend.history.store import Status

    live = start_server(model=random_checkpoint)
    live.wait_until_ready()
    store = live.server.app.state.jobs.store
    wav = speak(PHRASE)
    with wav.open("rb") as source:
        interrupted = store.add(source, "lecture.wav", Options())
    store.set_status(interrupted.id, Status.INTERRUPTED, "Hush stopped before this transcription finished.")

    session = open_page(live)
    page = session.page
    rows = page.locator("#history-list > li")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".badge")).to_have_text("Interrupted")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import a file").click()
    with page.expect_response(UPLOAD, timeout=60_000):
        chooser.value.set_files({"name": "kiwi-memo.wav", "mimeType": "audio/wav", "buffer": wav.read_bytes()})
    expect(session.transcript).to_have_text(re.compile(r"\w"))
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".history-name")).to_have_text("kiwi-memo.wav")
    expect(rows.first.locator(".badge")).to_have_text("Done")

    # "Transcribe again" on the interrupted one: queued, then done, with its transcript.
    lecture = page.locator(f'#history-list > li[data-id="{interrupted.id}"]')
    lecture.get_by_role("button", name="Transcribe again").click()
    expect(lecture.locator(".badge")).to_have_text("Done", timeout=30_000)
    lecture.locator(".history-open").click()
    expect(page.locator("#result-title")).to_have_text("lecture.wav")
    expect(session.transcript).to_have_text(re.compile(r"\w"))
    expect(page.locator("#player")).to_have_attribute("src", re.compile(f"api/transcriptions/{interrupted.id}/audio"))

    # Search finds by file name and by transcript; nothing matches is said so.
    page.locator("#history-search").fill("kiwi")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".history-name")).to_have_text("kiwi-memo.wav")
    page.locator("#history-search").fill("zzzqqq")
    expect(rows).to_have_count(0)
    expect(page.locator("#history-empty")).to_have_text("No transcription contains these words.")
    page.locator("#history-search").fill("")
    expect(rows).to_have_count(2)
    page.locator("#history").scroll_into_view_if_needed()
    session.shot("history")

    # Delete removes the row, the open transcript and the stored recording.
    page.once("dialog", lambda dialog: dialog.accept())
    lecture.get_by_role("button", name="Delete lecture.wav").click()
    expect(rows).to_have_count(1)
    expect(page.locator("#item")).to_be_hidden()
    assert store.get(interrupted.id) is None and not interrupted.audio.exists()
    session.assert_no_console_errors()


def test_history_shows_the_queue_with_progress_and_cancels(
    open_page, start_server, random_checkpoint, speak, hold_jobs
):
    """While the engine is held: the page's import is transcribing (progress bar), another client's
    upload is queued behind it; both cancel from the history, and "Transcribe again" finishes one."""
    live = start_server(model=random_checkpoint)
    live.wait_until_ready()
    gate = hold_jobs(live, at=0.25)  # as if a quarter of a long recording were done
    wav = speak(PHRASE).read_bytes()
    session = open_page(live)
    page = session.page
    rows = page.locator("#history-list > li")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import a file").click()
    chooser.value.set_files({"name": "first.wav", "mimeType": "audio/wav", "buffer": wav})
    first, second = rows.filter(has_text="first.wav"), rows.filter(has_text="second.wav")
    expect(first.locator(".badge")).to_have_text("Transcribing 25%", timeout=30_000)
    expect(page.locator("#working-title")).to_have_text("Transcribing 25%")  # the page's own upload
    expect(page.locator("#progress")).to_have_attribute("data-mode", "determinate")
    with live.client() as other:  # e.g. a script using the OpenAI SDK
        other.post("/api/transcriptions", params={"wait": "false"}, files={"file": ("second.wav", wav)})
    expect(first.get_by_role("progressbar")).to_be_visible()
    expect(second.locator(".badge")).to_have_text("Queued · next", timeout=30_000)
    page.locator("#history").scroll_into_view_if_needed()
    session.shot("queue")

    second.get_by_role("button", name="Cancel second.wav").click()
    expect(second.locator(".badge")).to_have_text("Cancelled")
    expect(second.get_by_role("button", name="Transcribe again")).to_be_visible()
    first.get_by_role("button", name="Cancel first.wav").click()
    expect(first.locator(".badge")).to_have_text("Cancelled")
    gate.set()
    second.get_by_role("button", name="Transcribe again").click()
    expect(second.locator(".badge")).to_have_text("Done", timeout=30_000)
