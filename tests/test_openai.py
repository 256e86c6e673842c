"""backend/routers/openai.py: the OpenAI Python SDK pointed at Hush gets transcriptions back."""

from __future__ import annotations

import pytest
from openai import OpenAI


@pytest.fixture(scope="module")
def sdk(random_server) -> OpenAI:
    return OpenAI(base_url=f"{random_server.url}/v1", api_key=random_server.token, max_retries=0)


def test_transcription_as_json(sdk, media):
    with media["webm"].open("rb") as file:
        result = sdk.audio.transcriptions.create(model="whisper-1", file=file)
    assert result.text.strip()


def test_transcription_verbose_json_has_language_duration_and_segments(sdk, media, speech_samples):
    samples, rate = speech_samples
    with media["mp3"].open("rb") as file:
        result = sdk.audio.transcriptions.create(model="whisper-1", file=file, response_format="verbose_json")
    assert result.language == "english"
    assert result.duration == pytest.approx(len(samples) / rate, abs=0.1)
    assert result.segments and result.segments[0].text.strip()


@pytest.mark.parametrize(("fmt", "start"), [("text", ""), ("srt", "1\n00:00:00,000 --> "), ("vtt", "WEBVTT\n")])
def test_transcription_as_text_formats(sdk, media, fmt, start):
    with media["wav"].open("rb") as file:
        result = sdk.audio.transcriptions.create(model="whisper-1", file=file, response_format=fmt, language="en")
    assert isinstance(result, str) and result.startswith(start) and result.strip()


def test_translation(sdk, media):
    with media["ogg"].open("rb") as file:
        result = sdk.audio.translations.create(model="whisper-1", file=file, prompt="stop", temperature=0.2)
    assert result.text.strip()


def test_models_lists_the_loaded_model(sdk, random_checkpoint):
    assert [m.id for m in sdk.models.list()] == [str(random_checkpoint)]


def test_errors_reach_the_sdk_as_its_own_exceptions(sdk):
    import openai

    with pytest.raises(openai.BadRequestError, match="not an audio or video file"):
        sdk.audio.transcriptions.create(model="whisper-1", file=("notes.txt", b"just some text" * 50))


def test_a_wrong_api_key_is_refused_as_an_authentication_error(random_server, media):
    import openai

    intruder = OpenAI(base_url=f"{random_server.url}/v1", api_key="a-guessed-key-0000", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="access token"), media["wav"].open("rb") as file:
        intruder.audio.transcriptions.create(model="whisper-1", file=file)
