"""backend/web/routers/models.py: list, download with progress, switch at runtime, delete."""

from __future__ import annotations

import pytest

from tests.support.fake_hub import HUB_REPO as REPO
from tests.support.helpers import wait_until


@pytest.fixture
def live(start_server, random_checkpoint, hub, tmp_path):
    live = start_server(model=random_checkpoint, hub_endpoint=hub.url, data_dir=tmp_path / "data")
    live.wait_until_ready()
    return live


def test_the_list_shows_the_catalogue_and_the_active_folder(live, random_checkpoint):
    with live.client() as client:
        body = client.get("/api/models").json()
    assert body["active"] == str(random_checkpoint)
    first = body["models"][0]
    assert first["id"] == str(random_checkpoint) and first["active"] and first["installed"]
    small = next(m for m in body["models"] if m["id"] == "openai/whisper-small")
    assert small["size_bytes"] > 900_000_000 and small["multilingual"] and not small["installed"]


def test_download_progress_then_switch_without_restart_then_delete(live, media):
    with live.client() as client:
        started = client.post(f"/api/models/{REPO}/download")
        assert started.status_code == 202 and started.json()["state"] == "downloading"
        progress = [client.get(f"/api/models/{REPO}/download").json()]

        def finished() -> bool:
            progress.append(client.get(f"/api/models/{REPO}/download").json())
            return progress[-1]["state"] != "downloading"

        wait_until(finished, 60, "the download")
        assert progress[-1]["state"] == "done" and progress[-1]["percent"] == 100.0
        assert any(0 < p["percent"] < 100 for p in progress), progress  # seen part-way
        listed = {m["id"]: m for m in client.get("/api/models").json()["models"]}
        assert listed[REPO]["installed"]

        switched = client.post(f"/api/models/{REPO}/activate")
        assert switched.status_code == 202 and switched.json()["id"] == REPO
        wait_until(lambda: client.get("/api/health").json()["model"]["state"] == "ready", 60, "the new model")
        assert client.get("/api/health").json()["model"]["id"] == REPO
        result = client.post("/api/transcriptions", files={"file": ("a.webm", media["webm"].read_bytes())})
        assert result.status_code == 200 and result.json()["model"] == REPO

        in_use = client.delete(f"/api/models/{REPO}")
        assert in_use.status_code == 409 and "in use" in in_use.json()["detail"]


def test_delete_a_model_that_is_not_in_use(live):
    with live.client() as client:
        client.post(f"/api/models/{REPO}/download")
        wait_until(lambda: client.get(f"/api/models/{REPO}/download").json()["state"] == "done", 60, "the download")
        assert client.delete(f"/api/models/{REPO}").status_code == 204
        listed = {m["id"]: m for m in client.get("/api/models").json()["models"]}
        assert REPO not in listed  # not in the catalogue, and no longer downloaded
        assert client.delete(f"/api/models/{REPO}").status_code == 404


def test_switching_to_a_model_that_is_not_downloaded_says_so(live):
    with live.client() as client:
        response = client.post("/api/models/openai/whisper-medium/activate")
    assert response.status_code == 409 and "Download it first" in response.json()["detail"]


def test_a_failed_download_tells_why(live):
    with live.client() as client:
        client.post("/api/models/hush-tests/missing/download")
        failed = wait_until(
            lambda: (r := client.get("/api/models/hush-tests/missing/download").json())["state"] == "failed" and r,
            60,
            "the download to fail",
        )
    assert "no model 'hush-tests/missing'" in failed["error"]


# -- models already on this computer (real whisper-tiny.en, as faster-whisper and openai-whisper keep it) ----
@pytest.fixture
def fresh_conversions(tmp_path, monkeypatch):
    """An empty conversion cache for this test, so the conversion really happens."""
    monkeypatch.setenv("HUSH_CACHE_DIR", str(tmp_path / "hush-cache"))
    return tmp_path / "hush-cache"


def test_a_faster_whisper_folder_is_converted_with_progress_then_transcribes(
    start_server, random_checkpoint, tiny_en_ct2, fresh_conversions, speak, tmp_path
):
    live = start_server(model=random_checkpoint, data_dir=tmp_path / "data")
    live.wait_until_ready()
    before = sorted(p.name for p in tiny_en_ct2.iterdir())
    shown: list[str] = []
    with live.client() as client:
        chosen = client.post("/api/models/local", json={"path": str(tiny_en_ct2)})
        assert chosen.status_code == 202, chosen.text

        def ready() -> bool:
            model = client.get("/api/health").json()["model"]
            shown.append(model["detail"])
            assert model["state"] in ("loading", "ready"), model
            return model["state"] == "ready" and model["id"] == str(tiny_en_ct2.resolve())

        wait_until(ready, 300, "the converted model", interval=0.02)
        assert any("Converting" in detail for detail in shown), shown
        with speak("the museum will be closed on monday for repairs").open("rb") as audio:
            result = client.post("/api/transcriptions", files={"file": ("museum.wav", audio)}).json()
    assert {"museum", "closed", "monday", "repairs"} <= set(result["text"].lower().replace(".", "").split()), result
    assert sorted(p.name for p in tiny_en_ct2.iterdir()) == before  # the original is never changed
    assert len(list((fresh_conversions / "converted").iterdir())) == 1


def test_a_path_that_is_not_a_model_says_what_would_be(live, tmp_path):
    (tmp_path / "notes").mkdir()
    with live.client() as client:
        missing = client.post("/api/models/local", json={"path": str(tmp_path / "nowhere")})
        foreign = client.post("/api/models/local", json={"path": str(tmp_path / "notes")})
        health = client.get("/api/health").json()
    assert missing.status_code == 404 and "no file or folder" in missing.json()["detail"]
    assert foreign.status_code == 422 and "faster-whisper folder" in foreign.json()["detail"]
    assert health["model"]["state"] == "ready"  # the model in use stays


def test_openai_whisper_downloads_are_listed_as_found_and_usable(
    live, tiny_en_ct2, fresh_conversions, tmp_path, monkeypatch
):
    from tests.support.real_weights import write_openai_checkpoint

    cache = tmp_path / "xdg-cache"
    (cache / "whisper").mkdir(parents=True)
    checkpoint = write_openai_checkpoint(tiny_en_ct2, cache / "whisper" / "tiny.en.pt")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    with live.client() as client:
        listed = {m["id"]: m for m in client.get("/api/models").json()["models"]}
        found = listed[str(checkpoint)]
        assert found["found"] and found["installed"] and not found["active"]
        assert found["name"] == "tiny.en" and found["multilingual"] is False
        assert client.post(f"/api/models/{checkpoint}/activate").status_code == 202
        ready = lambda: client.get("/api/health").json()["model"]["state"] == "ready"  # noqa: E731
        wait_until(ready, 300, "the converted .pt", interval=0.1)
        assert client.get("/api/health").json()["model"]["id"] == str(checkpoint)
