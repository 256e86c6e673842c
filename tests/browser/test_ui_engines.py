"""The engines panel (``ui/engines.js``) in chromium: a server chosen and tested, a job sent to it with
progress, the transcript kept here, the key never in the page."""

from __future__ import annotations

import pytest

from tests.engine.test_real_weights import ENGLISH
from tests.support.browser import OUTPUT, expect
from tests.support.peers import FaultProxy

pytestmark = pytest.mark.browser

KEY = "sk-browser-secret-0123456789"


def test_a_server_is_chosen_tested_and_does_the_work(open_page, start_server, fws_peer, speak, tmp_path):
    proxy = FaultProxy(fws_peer.url.removesuffix("/v1"))
    server = start_server(model=tmp_path / "no-model-here")
    session = open_page(server, width=1000, height=900, wait_ready=False)
    page = session.page
    page.get_by_role("button", name="Choose a model…").click()
    dialog = page.get_by_role("dialog", name="Speech models")
    dialog.get_by_label("Servers (OpenAI-compatible)").check()
    expect(dialog.get_by_text("Your audio leaves this computer")).to_be_visible()
    dialog.get_by_label("Base URL").fill(proxy.url)
    dialog.get_by_label("API key").fill(KEY)
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator("#model-pill-label")).to_have_text(f"Server: {proxy.url.split('/')[2]}", timeout=20_000)
    expect(dialog.get_by_label("API key")).to_have_attribute("placeholder", "Stored (type to replace)")
    expect(dialog.get_by_text("Live text is off")).to_be_visible()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "engines-panel.png"))

    dialog.get_by_role("button", name=f"Test {proxy.url}").click()
    expect(dialog.get_by_role("status").filter(has_text="second of silence")).to_be_visible(timeout=60_000)
    dialog.get_by_role("button", name="Close the models panel").click()
    proxy.faults.append("hold")

    page.locator("#file-input").set_input_files(str(speak(ENGLISH[0], pad_seconds=0.5)))
    expect(page.locator("#working")).to_be_visible(timeout=30_000)
    assert proxy.arrived.wait(30)
    expect(page.locator("#working-title")).to_have_text("Transcribing", timeout=30_000)
    host = proxy.url.split("/")[2]
    expect(page.locator("#working-detail")).to_contain_text(f"sent to {host}; waiting for the transcript")
    page.screenshot(path=str(OUTPUT / "engines-remote-job.png"))
    proxy.release.set()
    expect(session.transcript).to_contain_text("tomatoes", timeout=60_000)
    expect(page.locator("#edit-hint")).to_contain_text("Word timing is unavailable")
    expect(page.locator("#footer-privacy")).to_contain_text("Audio is sent to the chosen server")
    assert KEY not in page.content()
    assert {auth for _, _, auth in proxy.requests} == {f"Bearer {KEY}"}
    session.assert_no_console_errors()
    proxy.stop()


def test_the_panel_says_what_hush_engine_chose_and_reads_in_the_dark(open_page, start_server, fws_peer, tmp_path):
    server = start_server(model=tmp_path / "no-model-here", engine=fws_peer.url)
    session = open_page(server, width=900, height=760, dark=True)
    page = session.page
    page.locator("#model-pill").click()
    dialog = page.get_by_role("dialog", name="Speech models")
    expect(dialog.get_by_text("HUSH_ENGINE chose the engine for this launch")).to_be_visible()
    expect(dialog.get_by_label("Base URL")).to_have_value(fws_peer.url)
    expect(dialog.get_by_label("Base URL")).to_be_disabled()
    expect(dialog.get_by_role("button", name="Save")).to_be_hidden()
    expect(dialog.get_by_role("radio", name="This computer")).to_be_disabled()
    page.keyboard.press("Tab")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "engines-panel-dark.png"))
    session.assert_no_console_errors()
