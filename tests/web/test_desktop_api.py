"""``/api/desktop``: the window app's controls over HTTP, with the launcher's real ``Controls``.

The window itself is replaced by a surface that records what it was asked (the real window is
driven in tests/desktop/test_desktop.py); menu entries are written into a temporary XDG home."""

from __future__ import annotations

import threading

import httpx
import pytest

from backend.settings import Settings
from backend.web.schemas import IndicatorState
from backend.web.server import Server
from desktop import controls as controls_module
from desktop import entries, state
from desktop.controls import Controls
from desktop.typist import Typist
from tests.support.helpers import wait_until


class RecordingSurface:
    tray = False

    def __init__(self) -> None:
        self.fronts = 0
        self.closed = threading.Event()
        self.dictations: list[str] = []
        self.clipboard: str | None = None
        self.indicated: list[str | None] = []
        self.level: float | None = None

    def bring_to_front(self) -> None:
        self.fronts += 1

    def close(self) -> None:
        self.closed.set()

    def dictate(self, action: str) -> None:
        self.dictations.append(action)

    def set_clipboard(self, text: str) -> None:
        self.clipboard = text

    def get_clipboard(self) -> str | None:
        return self.clipboard

    def indicate(
        self, text: str | None, seconds: float | None = None, *, hint: str | None = None, level: float | None = None
    ) -> None:
        self.indicated.append(text)
        self.level = level

    def showing(self) -> IndicatorState:
        return IndicatorState(text=self.indicated[-1] if self.indicated else None, level=self.level)


@pytest.fixture
def xdg_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


@pytest.fixture
def desktop_server(tmp_path, random_checkpoint, xdg_home):
    data = tmp_path / "data"
    controls = Controls(data, state.State())
    surface = RecordingSurface()
    controls.attach(surface)
    server = Server(Settings(host="127.0.0.1", port=0, data_dir=data, model=str(random_checkpoint)), desktop=controls)
    server.start()
    client = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.token}"}, timeout=60)
    yield server, client, controls, surface
    client.close()
    server.stop()


def test_a_server_without_a_window_says_so(random_server):
    with random_server.client() as client:
        answer = client.get("/api/desktop")
        assert client.get("/api/health").json()["desktop"] is False  # the page does not ask
    assert answer.status_code == 404
    assert "Only the Hush app" in answer.json()["detail"]


def test_the_controls_need_the_token(desktop_server):
    server, _, _, surface = desktop_server
    assert httpx.post(server.base_url + "api/desktop/show").status_code == 401
    assert surface.fronts == 0


def test_show_brings_the_window_to_the_front(desktop_server):
    _, client, _, surface = desktop_server
    assert client.get("/api/health").json()["desktop"] is True
    assert client.post("/api/desktop/show").status_code == 204
    assert surface.fronts == 1


def test_preferences_write_and_remove_the_menu_entry(desktop_server, xdg_home):
    _, client, controls, _ = desktop_server
    assert client.get("/api/desktop").json() == {
        "menu_entry": False, "keep_running": False, "start_at_login": False, "tray": False, "can_install": True,
        "dictation_shortcut": "ctrl+shift+space", "dictation_paste": False, "dictation_trailing_space": False,
        "dictation_keep_on_clipboard": False, "dictation_shortcut_note": None,
    }  # fmt: skip
    answer = client.patch("/api/desktop", json={"menu_entry": True, "keep_running": True}).json()
    assert answer["menu_entry"] and answer["keep_running"] and not answer["start_at_login"]
    assert (xdg_home / "share" / "applications" / "hush.desktop").is_file()
    assert state.load(controls.data_dir).keep_running  # remembered for the next launch
    assert controls.should_hide()
    answer = client.patch("/api/desktop", json={"menu_entry": False, "start_at_login": True}).json()
    assert not answer["menu_entry"] and answer["start_at_login"]
    assert not (xdg_home / "share" / "applications").joinpath("hush.desktop").exists()
    assert "--hidden" in (xdg_home / "config" / "autostart" / "hush.desktop").read_text()


def test_a_preference_that_cannot_be_written_is_a_sentence(desktop_server, xdg_home):
    _, client, _, _ = desktop_server
    (xdg_home / "config").write_text("a file where the folder should be")
    answer = client.patch("/api/desktop", json={"start_at_login": True})
    assert answer.status_code == 500
    assert answer.json()["detail"].startswith("Hush could not write")


def test_quit_closes_even_when_keep_running_is_on(desktop_server):
    _, client, controls, surface = desktop_server
    client.patch("/api/desktop", json={"keep_running": True})
    assert client.post("/api/desktop/quit").status_code == 202
    assert surface.closed.is_set()
    assert not controls.should_hide()


def test_opened_files_become_jobs(desktop_server, media):
    server, client, _, surface = desktop_server
    server.app.state.models.wait_until_loaded(120)
    answer = client.post("/api/desktop/open", json={"paths": [str(media["wav"]), str(media["mp3"])]})
    assert answer.status_code == 200, answer.text
    ids = answer.json()["ids"]
    assert len(ids) == 2 and surface.fronts == 1

    def finished() -> bool:
        return all(client.get(f"/api/transcriptions/{i}").json()["status"] == "done" for i in ids)

    wait_until(finished, 120, "the opened files' transcriptions")
    assert client.get(f"/api/transcriptions/{ids[1]}").json()["filename"] == media["mp3"].name


def test_a_wrong_path_queues_nothing(desktop_server, media, tmp_path):
    server, client, _, _ = desktop_server
    server.app.state.models.wait_until_loaded(120)
    before = client.get("/api/transcriptions").json()["total"]
    answer = client.post("/api/desktop/open", json={"paths": [str(media["wav"]), str(tmp_path / "missing.wav")]})
    assert answer.status_code == 400
    assert "missing.wav is not a file Hush can read" in answer.json()["detail"]
    assert client.get("/api/transcriptions").json()["total"] == before


def test_entries_are_only_written_where_desktops_read_them(monkeypatch, tmp_path):
    monkeypatch.setattr(entries, "supported", lambda: False)
    controls = Controls(tmp_path, state.State())
    prefs = controls.preferences()
    assert not prefs.can_install and not prefs.menu_entry


def test_dictation_actions_reach_the_page_in_order_and_toggle_alternates(desktop_server):
    _, client, controls, surface = desktop_server
    for action in ("toggle", "start", "toggle", "stop", "start", "cancel", "cancel"):
        assert client.post(f"/api/desktop/dictation/{action}").status_code == 204
    assert surface.dictations == ["start", "stop", "start", "cancel"]  # a start while dictating does nothing
    assert surface.indicated == [
        controls_module.LISTENING,
        controls_module.TRANSCRIBING,
        controls_module.LISTENING,
        None,
    ]
    assert surface.level is None  # the meter goes with the listening
    assert not controls.dictating
    assert client.post("/api/desktop/dictation/louder").status_code == 422


def test_the_indicator_shows_the_pages_level_and_live_text_while_dictating_only(desktop_server):
    _, client, _, surface = desktop_server
    idle = client.get("/api/desktop/dictation").json()
    assert idle == {"dictating": False, "indicator": {"text": None, "level": None}}
    assert client.put("/api/desktop/dictation/progress", json={"level": 0.4, "text": "early"}).status_code == 204
    assert surface.indicated == []  # no dictation: nothing to show

    client.post("/api/desktop/dictation/start")
    assert client.get("/api/desktop/dictation").json() == {
        "dictating": True,
        "indicator": {"text": controls_module.LISTENING, "level": 0.0},
    }
    client.put("/api/desktop/dictation/progress", json={"level": 0.1, "text": ""})
    client.put("/api/desktop/dictation/progress", json={"level": 0.62, "text": " hello wor "})
    assert surface.indicated[-2:] == [controls_module.LISTENING, "hello wor"]  # no words yet: still listening
    assert client.get("/api/desktop/dictation").json()["indicator"] == {"text": "hello wor", "level": 0.62}

    client.post("/api/desktop/dictation/stop")
    client.put("/api/desktop/dictation/progress", json={"level": 0.5, "text": "hello world"})  # late: dropped
    assert client.get("/api/desktop/dictation").json() == {
        "dictating": False,
        "indicator": {"text": controls_module.TRANSCRIBING, "level": None},
    }
    too_loud = client.put("/api/desktop/dictation/progress", json={"level": 1.5, "text": ""})
    assert too_loud.status_code == 422


def test_a_dictation_is_stored_marked_and_without_a_way_to_type_lands_on_the_clipboard(desktop_server, media):
    server, client, controls, surface = desktop_server
    # No display, not Wayland: nothing can type.
    controls.typist = Typist(controls.typist.clipboard, controls.typist.clipboard_text, environ={})
    server.app.state.models.wait_until_loaded(120)
    with media["wav"].open("rb") as clip:
        answer = client.post("/api/desktop/dictations", files={"file": ("dictation.wav", clip, "audio/wav")})
    assert answer.status_code == 200, answer.text
    done = answer.json()
    job = client.get(f"/api/transcriptions/{done['id']}").json()
    assert job["dictation"] is True and job["status"] == "done" and done["status"] == "done"
    assert client.get("/api/transcriptions").json()["items"][0]["dictation"] is True

    typed_again = client.post(f"/api/desktop/dictations/{done['id']}/type")
    assert typed_again.status_code == 200
    assert typed_again.json() == {
        "method": "clipboard",
        "message": "Hush found no display to type on. The text is on the clipboard: paste it with Ctrl+V.",
    }
    assert surface.clipboard == job["text"].strip()
    assert surface.indicated[-1] == typed_again.json()["message"]  # the indicator says what to do

    with media["wav"].open("rb") as clip:
        answer = client.post(
            "/api/desktop/dictations", files={"file": ("dictation.wav", clip, "audio/wav")}, data={"cancelled": "true"}
        )
    cancelled = answer.json()
    assert cancelled["status"] == "cancelled" and cancelled["delivery"]["method"] == "nothing"
    job = client.get(f"/api/transcriptions/{cancelled['id']}").json()
    assert job["status"] == "cancelled" and job["dictation"] is True
    assert client.get(f"/api/transcriptions/{cancelled['id']}/audio").status_code == 200  # the recording is kept
    assert client.post(f"/api/desktop/dictations/{cancelled['id']}/type").status_code == 404


def test_without_a_window_dictation_is_refused_with_a_sentence(desktop_server):
    from desktop.browser import BrowserSurface

    _, client, controls, _ = desktop_server
    controls.attach(BrowserSurface("http://127.0.0.1:1/", threading.Event()))
    answer = client.post("/api/desktop/dictation/start")
    assert answer.status_code == 409 and "without --browser" in answer.json()["detail"]
    assert not controls.dictating


def test_the_dictation_shortcut_is_changed_remembered_and_checked(desktop_server, tmp_path):
    _, client, controls, _ = desktop_server
    assert client.get("/api/desktop").json()["dictation_shortcut"] == "ctrl+shift+space"
    answer = client.patch("/api/desktop", json={"dictation_shortcut": "Alt+Ctrl+D"})
    assert answer.status_code == 200 and answer.json()["dictation_shortcut"] == "ctrl+alt+d"
    assert state.load(controls.data_dir).dictation_shortcut == "ctrl+alt+d"  # the next launch listens for it
    for wrong, why in (("d", "has no Ctrl, Shift, Alt or Super"), ("ctrl+shift", "is not a shortcut")):
        answer = client.patch("/api/desktop", json={"dictation_shortcut": wrong})
        assert answer.status_code == 400 and why in answer.json()["detail"], answer.text
    assert client.get("/api/desktop").json()["dictation_shortcut"] == "ctrl+alt+d"


class Keyboard:
    """Stands in for the X keyboard (typing into a real app is tested under Xvfb in tests/desktop)."""

    def __init__(self) -> None:
        self.typed: list[str] = []

    def type(self, text: str) -> None:
        self.typed.append(text)


def test_a_trailing_space_and_a_copy_on_the_clipboard_when_asked(desktop_server, media):
    server, client, controls, surface = desktop_server
    server.app.state.models.wait_until_loaded(120)
    with media["wav"].open("rb") as clip:
        done = client.post("/api/desktop/dictations", files={"file": ("dictation.wav", clip, "audio/wav")}).json()
    text = client.get(f"/api/transcriptions/{done['id']}").json()["text"].strip()
    assert text
    keyboard = controls.typist._keyboard = Keyboard()
    controls.typist.environ = {"DISPLAY": ":0"}
    surface.clipboard = None
    assert client.post(f"/api/desktop/dictations/{done['id']}/type").json()["method"] == "typed"
    assert keyboard.typed == [text] and surface.clipboard is None  # the defaults: as spoken, clipboard untouched
    prefs = client.patch("/api/desktop", json={"dictation_trailing_space": True, "dictation_keep_on_clipboard": True})
    assert prefs.json()["dictation_trailing_space"] and prefs.json()["dictation_keep_on_clipboard"]
    assert client.post(f"/api/desktop/dictations/{done['id']}/type").json()["method"] == "typed"
    assert keyboard.typed[-1] == text + " " and surface.clipboard == text + " "
    remembered = state.load(controls.data_dir)
    assert remembered.dictation_trailing_space and remembered.dictation_keep_on_clipboard
