"""The models panel (``ui/models.js``) in chromium: download with a progress bar, switch, delete.

The hub is a fake on 127.0.0.1 serving the tests' tiny checkpoint slowly enough that
the progress bar is seen moving.
"""

from __future__ import annotations

import pytest

from tests.support.browser import OUTPUT, expect
from tests.support.fake_hub import HUB_REPO as REPO

pytestmark = pytest.mark.browser


def test_a_model_is_downloaded_with_a_progress_bar_and_used_without_restarting(
    open_page, start_server, random_checkpoint, hub, tmp_path
):
    server = start_server(model=random_checkpoint, hub_endpoint=hub.url, data_dir=tmp_path / "data")
    server.wait_until_ready()
    first_engine = server.engine
    session = open_page(server, width=1000, height=720)
    page = session.page

    page.get_by_role("button", name="Speech model: Ready · random-whisper0").click()
    dialog = page.get_by_role("dialog", name="Speech models")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Download Small", exact=True)).to_be_visible()
    expect(dialog.get_by_text("In use")).to_be_visible()

    dialog.get_by_label("Another model from the Hugging Face hub").fill(REPO)
    dialog.get_by_role("button", name="Download", exact=True).click()
    bar = dialog.get_by_role("progressbar")
    expect(bar).to_be_visible()
    expect(dialog.get_by_text("% of")).to_be_visible()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "models-downloading.png"))

    dialog.get_by_role("button", name=f"Use {REPO}").click(timeout=60_000)
    expect(page.locator("#model-pill")).to_have_attribute("data-state", "ready", timeout=60_000)
    expect(page.locator("#model-pill-label")).to_have_text("Ready · tiny-whisper")
    expect(dialog.get_by_text("In use")).to_have_count(1)
    assert server.engine is not first_engine  # a new engine, same server
    session.assert_no_console_errors()


def test_a_missing_model_offers_the_models_panel(open_page, start_server, tmp_path):
    server = start_server(model=tmp_path / "no-model-here")
    session = open_page(server, wait_ready=False)
    page = session.page
    expect(page.locator("#model-banner")).to_contain_text("does not exist")
    page.get_by_role("button", name="Choose a model…").click()
    expect(page.get_by_role("dialog", name="Speech models")).to_be_visible()
