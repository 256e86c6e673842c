"""Where work runs (backend/engine/servers.py): what Hush refuses to send audio to, and how keys are kept."""

from __future__ import annotations

import stat

import pytest

from backend.engine.servers import (
    ENGINES_FILE,
    EngineChoice,
    Server,
    UnusableServer,
    for_settings,
    remember_choice,
    stored_choice,
)
from backend.settings import Settings


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/v1", "http://localhost:8000/v1/", "http://[::1]:8000/v1", "https://gpu-box.example/v1"],
)
def test_encrypted_or_local_servers_are_accepted(url):
    assert Server(url).checked().url == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://gpu-box.example:8000/v1", "unencrypted"),
        ("http://192.168.1.20:8000/v1", "unencrypted"),
        ("ftp://gpu-box/v1", "not a server address"),
        ("gpu-box:8000", "not a server address"),
        ("https://user:secret@gpu-box/v1", "key field"),
        ("https://gpu-box/v1?key=secret", "query"),
    ],
)
def test_unsafe_or_broken_addresses_are_refused_with_a_sentence(url, words):
    with pytest.raises(UnusableServer, match=words):
        Server(url).checked()


def test_plain_http_to_another_computer_needs_the_users_consent():
    assert Server("http://gpu-box.example:8000/v1", allow_unencrypted=True).checked().host == "gpu-box.example:8000"


def test_keys_are_stored_owner_only_and_kept_out_of_what_is_shown(tmp_path):
    server = Server("https://gpu-box.example/v1", key="sk-stored-0123456789", concurrency=3).checked()
    remember_choice(tmp_path, EngineChoice("servers", (server,)))
    path = tmp_path / ENGINES_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stored_choice(tmp_path) == EngineChoice("servers", (server,))
    assert "sk-stored" not in repr(server) and "sk-stored" not in str(server.public())
    assert server.public()["has_key"] is True
    assert not [p.name for p in tmp_path.iterdir() if p.name != ENGINES_FILE], "no temporary file left behind"


def test_an_unreadable_file_means_this_computer(tmp_path):
    (tmp_path / ENGINES_FILE).write_text("{not json")
    assert stored_choice(tmp_path) == EngineChoice()


def test_hush_engine_overrides_the_remembered_choice(tmp_path):
    remember_choice(tmp_path, EngineChoice("servers", (Server("https://a.example/v1"),)))
    settings = Settings(data_dir=tmp_path, engine="https://b.example/v1", engine_key="sk-env-0123456789")
    chosen = for_settings(settings)
    assert chosen.from_environment and [s.url for s in chosen.servers] == ["https://b.example/v1"]
    assert chosen.servers[0].key == "sk-env-0123456789"
    assert "sk-env" not in repr(settings)
    assert for_settings(Settings(data_dir=tmp_path, engine="local")) == EngineChoice("local", from_environment=True)
    assert for_settings(Settings(data_dir=tmp_path)).servers[0].url == "https://a.example/v1"
