"""backend/catalog.py and backend/models.py: the catalogue, downloads with progress, the cache."""

from __future__ import annotations

import time

from backend import catalog, models
from backend.settings import Settings
from conftest import HUB_REPO as REPO


def test_the_catalogue_offers_every_size_with_small_as_the_default():
    ids = [e.id for e in catalog.CATALOGUE]
    for size in ("tiny", "base", "small", "medium"):
        assert f"openai/whisper-{size}" in ids and f"openai/whisper-{size}.en" in ids
    assert "openai/whisper-large-v3-turbo" in ids and "distil-whisper/distil-large-v3" in ids
    assert Settings().model in ids


def test_a_download_reports_growing_bytes_and_lands_in_the_cache(hub, random_checkpoint):
    seen: list[tuple[int, int]] = []
    assert models.cached(REPO) is None
    folder = models.download(REPO, lambda done, total: seen.append((done, total)), endpoint=hub.url)
    weights = (random_checkpoint / "model.safetensors").stat().st_size
    assert (folder / "model.safetensors").stat().st_size == weights
    assert models.cached(REPO) == folder
    assert len(seen) > 3 and seen == sorted(seen) and seen[-1][0] == seen[-1][1] >= weights


def test_a_cached_model_is_found_without_the_network(hub, no_internet):
    models.download(REPO, endpoint=hub.url)
    hub.stop()
    hub.requests.clear()
    assert models.locate(REPO) == models.cached(REPO)
    assert hub.requests == []


def test_downloads_run_in_the_background_and_finish(hub):
    downloads = catalog.Downloads(hub.url)
    download = downloads.start(REPO)
    assert downloads.start(REPO) is download  # no second download of the same model
    deadline = time.monotonic() + 60
    while download.state is catalog.DownloadState.DOWNLOADING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert download.state is catalog.DownloadState.DONE and download.percent == 100.0
    assert download.bytes_per_second > 0


def test_an_unknown_repository_fails_with_a_reason(hub):
    downloads = catalog.Downloads(hub.url)
    download = downloads.start("hush-tests/no-such-model")
    while download.state is catalog.DownloadState.DOWNLOADING:
        time.sleep(0.05)
    assert download.state is catalog.DownloadState.FAILED
    assert "no model 'hush-tests/no-such-model'" in download.error


def test_delete_removes_a_downloaded_model(hub):
    models.download(REPO, endpoint=hub.url)
    assert models.delete(REPO) > 0
    assert models.cached(REPO) is None
    assert models.delete(REPO) == 0


def test_the_model_picked_in_the_app_is_remembered_unless_hush_model_is_set(tmp_path, monkeypatch):
    monkeypatch.delenv("HUSH_MODEL", raising=False)
    settings = Settings(data_dir=tmp_path)
    assert catalog.chosen_model(settings) == "openai/whisper-small"
    catalog.remember_model(settings, "openai/whisper-tiny")
    assert catalog.chosen_model(Settings(data_dir=tmp_path)) == "openai/whisper-tiny"
    assert catalog.chosen_model(Settings(data_dir=tmp_path, model="/my/folder")) == "/my/folder"
