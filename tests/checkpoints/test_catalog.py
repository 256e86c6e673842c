"""backend/checkpoints/catalog.py and locate.py: the catalogue, downloads with progress, the cache."""

from __future__ import annotations

import sys
from pathlib import Path

from backend.checkpoints import catalog, choice, locate
from backend.settings import Settings
from tests.support.fake_hub import HUB_REPO as REPO
from tests.support.helpers import wait_until


def test_the_catalogue_offers_every_size_with_small_as_the_default():
    ids = [e.id for e in catalog.CATALOGUE]
    for size in ("tiny", "base", "small", "medium"):
        assert f"openai/whisper-{size}" in ids and f"openai/whisper-{size}.en" in ids
    assert "openai/whisper-large-v3-turbo" in ids and "distil-whisper/distil-large-v3" in ids
    assert choice.DEFAULT_MODEL in ids


def test_a_download_reports_growing_bytes_and_lands_in_the_cache(hub, random_checkpoint):
    seen: list[tuple[int, int]] = []
    assert locate.cached(REPO) is None
    folder = locate.download(REPO, lambda done, total: seen.append((done, total)), endpoint=hub.url)
    weights = (random_checkpoint / "model.safetensors").stat().st_size
    assert (folder / "model.safetensors").stat().st_size == weights
    assert locate.cached(REPO) == folder
    assert len(seen) > 3 and seen == sorted(seen) and seen[-1][0] == seen[-1][1] >= weights


def test_a_cached_model_is_found_without_the_network(hub, no_internet):
    locate.download(REPO, endpoint=hub.url)
    hub.stop()
    hub.requests.clear()
    assert locate.locate(REPO) == locate.cached(REPO)
    assert hub.requests == []


def test_downloads_run_in_the_background_and_finish(hub):
    downloads = catalog.Downloads(hub.url)
    download = downloads.start(REPO)
    assert downloads.start(REPO) is download  # no second download of the same model
    wait_until(lambda: download.state is not catalog.DownloadState.DOWNLOADING, 60, "the download")
    assert download.state is catalog.DownloadState.DONE and download.percent == 100.0
    assert download.bytes_per_second > 0


def test_an_unknown_repository_fails_with_a_reason(hub):
    downloads = catalog.Downloads(hub.url)
    download = downloads.start("hush-tests/no-such-model")
    wait_until(lambda: download.state is not catalog.DownloadState.DOWNLOADING, 60, "the download to fail")
    assert download.state is catalog.DownloadState.FAILED
    assert "no model 'hush-tests/no-such-model'" in download.error


def test_delete_removes_a_downloaded_model(hub):
    locate.download(REPO, endpoint=hub.url)
    assert locate.delete(REPO) > 0
    assert locate.cached(REPO) is None
    assert locate.delete(REPO) == 0


def test_the_model_picked_in_the_app_is_remembered_unless_hush_model_is_set(tmp_path, monkeypatch):
    monkeypatch.delenv("HUSH_MODEL", raising=False)
    settings = Settings(data_dir=tmp_path)
    assert choice.for_settings(settings) == "openai/whisper-small"
    choice.remember_model(settings, "openai/whisper-tiny")
    assert choice.for_settings(Settings(data_dir=tmp_path)) == "openai/whisper-tiny"
    assert choice.for_settings(Settings(data_dir=tmp_path, model="/my/folder")) == "/my/folder"


def test_the_model_is_hush_model_then_the_pick_then_the_bundled_one_then_whisper_small(tmp_path, monkeypatch):
    bundle = tmp_path / "bundle"
    (bundle / choice.BUNDLED_MODEL_DIR).mkdir(parents=True)
    (bundle / choice.BUNDLED_MODEL_DIR / "config.json").write_text("{}")
    data = tmp_path / "data"
    data.mkdir()
    assert choice.chosen_model(None, data) == "openai/whisper-small"
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)  # inside the single executable
    assert choice.chosen_model(None, data) == str(bundle / choice.BUNDLED_MODEL_DIR)
    (data / choice.ACTIVE_MODEL_FILE).write_text("openai/whisper-base")
    assert choice.chosen_model(None, data) == "openai/whisper-base"
    assert choice.chosen_model("/my/folder", data) == "/my/folder"


def ctranslate2_model_bin(spec: str, vocab_size: int, whole: bool = True) -> bytes:
    """A minimal CTranslate2 model.bin: the header and the token embedding (vocab × 1, int8)."""
    import struct

    def string(text: str) -> bytes:
        raw = text.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    data = struct.pack("<I", 6) + string(spec) + struct.pack("<II", 3, 1)
    data += string("decoder/embeddings/weight") + struct.pack("<BIIBI", 2, vocab_size, 1, 1, vocab_size)
    data += bytes(vocab_size if whole else vocab_size // 2)
    return data + (struct.pack("<I", 0) if whole else b"")


def test_whisper_models_other_programs_left_on_disk_are_found(tmp_path):
    hub, whisper = tmp_path / "hub", tmp_path / "whisper"

    def snapshot(repo: str, files: dict[str, bytes]) -> None:
        folder = hub / f"models--{repo.replace('/', '--')}" / "snapshots" / "0123abcd"
        folder.mkdir(parents=True)
        for name, content in files.items():
            (folder / name).write_bytes(content)

    snapshot("Systran/faster-whisper-base", {"model.bin": ctranslate2_model_bin("WhisperSpec", 51865),
                                             "config.json": b"{}"})  # fmt: skip
    snapshot("someone/whisper-tiny.en-ct2", {"model.bin": ctranslate2_model_bin("WhisperSpec", 51864)})
    snapshot("Systran/faster-whisper-small", {"model.bin": ctranslate2_model_bin("WhisperSpec", 51865, whole=False)})
    snapshot("someone/opus-mt-de-en", {"model.bin": ctranslate2_model_bin("TransformerSpec", 100)})
    snapshot("openai/whisper-tiny", {"config.json": b"{}", "model.safetensors": b"..."})
    whisper.mkdir()
    for name, size in (("base.pt", 1000), ("tiny.en.pt", 500), ("my-finetune.pt", 700)):
        (whisper / name).write_bytes(bytes(size))

    found = {m.name: m for m in catalog.found_on_this_computer(hub, whisper)}
    assert set(found) == {"Systran/faster-whisper-base", "someone/whisper-tiny.en-ct2", "base", "tiny.en",
                          "my-finetune"}  # fmt: skip
    base = found["Systran/faster-whisper-base"]
    assert base.source == "faster-whisper" and base.multilingual is True and base.note.startswith("found on")
    assert base.size_bytes == 2 + len(ctranslate2_model_bin("WhisperSpec", 51865))
    assert locate.cached(base.id) == Path(base.id) and Path(base.id).is_absolute()
    assert found["someone/whisper-tiny.en-ct2"].multilingual is False
    assert (found["base"].multilingual, found["tiny.en"].multilingual, found["my-finetune"].multilingual) == (
        True, False, None)  # fmt: skip
    assert found["tiny.en"].id == str(whisper / "tiny.en.pt") and found["tiny.en"].size_bytes == 500
    assert locate.is_folder(found["tiny.en"].id) and locate.cached(found["tiny.en"].id) == whisper / "tiny.en.pt"


def test_nothing_is_found_where_there_are_no_caches(tmp_path):
    assert catalog.found_on_this_computer(tmp_path / "no-hub", tmp_path / "no-whisper") == []
