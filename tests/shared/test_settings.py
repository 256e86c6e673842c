"""backend/settings.py: defaults and HUSH_* overrides."""

from __future__ import annotations

import pydantic
import pytest

from backend.checkpoints import choice
from backend.settings import Settings, read_settings


def test_defaults_are_private_and_whisper_small(monkeypatch, tmp_path):
    for name in ("HUSH_MODEL", "HUSH_HOST", "HUSH_PORT", "HUSH_DEVICE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.model is None  # not asked for: choice.py decides
    assert choice.for_settings(settings.model_copy(update={"data_dir": tmp_path})) == "openai/whisper-small"
    assert settings.host == "127.0.0.1" and settings.port == 0 and settings.device == "auto"
    assert "hush" in str(settings.data_dir).lower()


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("HUSH_MODEL", str(tmp_path))
    monkeypatch.setenv("HUSH_PORT", "8123")
    monkeypatch.setenv("HUSH_MAX_UPLOAD_MB", "5")
    monkeypatch.setenv("HUSH_DATA_DIR", str(tmp_path / "data"))
    settings = Settings()
    assert settings.model == str(tmp_path) and settings.port == 8123
    assert settings.max_upload_bytes == 5 * 2**20 and settings.data_dir == tmp_path / "data"


def test_invalid_values_are_refused(monkeypatch):
    monkeypatch.setenv("HUSH_DEVICE", "tpu")
    with pytest.raises(pydantic.ValidationError, match="device"):
        Settings()


def test_a_bad_setting_stops_the_start_with_a_sentence_naming_its_variable_not_its_value(monkeypatch):
    monkeypatch.setenv("HUSH_TOKEN", "short-secret")
    monkeypatch.setenv("HUSH_MAX_UPLOAD_MB", "-3")
    with pytest.raises(SystemExit) as stopped:
        read_settings()
    message = str(stopped.value.code)
    assert "HUSH_TOKEN: String should have at least 16 characters." in message
    assert "HUSH_MAX_UPLOAD_MB: Input should be greater than 0." in message
    assert "short-secret" not in message and "Traceback" not in message
