"""backend/web/routers/openai.py: the OpenAI Python SDK pointed at Hush, on real whisper-base, gets what was said."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest
from openai import OpenAI

from tests.support.media import encode
from tests.support.real_weights import overlap

SENTENCE = "the museum will be closed on monday for repairs"
GERMAN = "Guten Morgen, ich möchte heute ein Buch in der Bibliothek ausleihen."


@pytest.fixture(scope="module")
def base_server(start_server, base_converted):
    server = start_server(model=base_converted)
    server.wait_until_ready(300)
    return server


@pytest.fixture(scope="module")
def sdk(base_server) -> OpenAI:
    return OpenAI(base_url=f"{base_server.url}/v1", api_key=base_server.token, max_retries=0, timeout=300)


@pytest.fixture(scope="module")
def sentence(speak):
    return speak(SENTENCE, pad_seconds=0.5)


def test_transcription_as_json(sdk, sentence):
    with sentence.open("rb") as file:
        result = sdk.audio.transcriptions.create(model="whisper-1", file=file)
    assert overlap(SENTENCE, result.text) == 1.0, result.text


def test_verbose_json_has_language_duration_segments_and_words(sdk, sentence):
    with sentence.open("rb") as file:
        result = sdk.audio.transcriptions.create(
            model="whisper-1", file=file, response_format="verbose_json", timestamp_granularities=["word", "segment"]
        )
    assert result.language == "english"
    assert result.duration == pytest.approx(3.6, abs=0.6)
    assert overlap(SENTENCE, " ".join(s.text for s in result.segments)) == 1.0
    assert overlap(SENTENCE, " ".join(w.word for w in result.words)) == 1.0


def test_verbose_json_leaves_out_the_granularities_not_asked_for(base_server, sentence):
    headers = {"Authorization": f"Bearer {base_server.token}"}
    form = {"model": "whisper-1", "response_format": "verbose_json", "timestamp_granularities[]": "word"}
    with httpx.Client(base_url=f"{base_server.url}/v1", headers=headers, timeout=300) as client:
        answer = client.post("/audio/transcriptions", files={"file": sentence.read_bytes()}, data=form).json()
    assert "segments" not in answer and answer["words"] and set(answer["words"][0]) == {"word", "start", "end"}


@pytest.mark.parametrize(("fmt", "start"), [("text", ""), ("srt", "1\n00:00:00,"), ("vtt", "WEBVTT\n")])
def test_transcription_as_text_formats(sdk, sentence, fmt, start):
    with sentence.open("rb") as file:
        result = sdk.audio.transcriptions.create(model="whisper-1", file=file, response_format=fmt, language="en")
    assert isinstance(result, str) and result.startswith(start) and "Monday" in result


def test_translation_into_english(sdk, speak):
    with speak(GERMAN, voice="de").open("rb") as file:
        result = sdk.audio.translations.create(model="whisper-1", file=file)
    english = set(result.text.lower().replace(".", "").replace(",", "").split())
    assert {"good", "morning", "book", "library"} & english, result.text  # Guten Morgen … Buch … Bibliothek
    assert not {"guten", "morgen", "ich", "buch", "der", "bibliothek"} & english, result.text


def test_a_prompt_steers_the_spelling(sdk, speak):
    with speak("we met kiri at the station").open("rb") as file:
        plain = sdk.audio.transcriptions.create(model="whisper-1", file=file, language="en")
    with speak("we met kiri at the station").open("rb") as file:
        prompted = sdk.audio.transcriptions.create(model="whisper-1", file=file, language="en", prompt="Kiri")
    assert "Kiri" not in plain.text  # the model's own spelling is another: the prompt is what changes it
    assert "Kiri" in prompted.text, (plain.text, prompted.text)


def long_speech(speak, tmp_path) -> tuple[bytes, list[str]]:
    """About 50 s of sentences with pauses: two 30 s windows at least."""
    sentences = [
        "the museum will be closed on monday for repairs",
        "my grandmother keeps her old photographs in a wooden box",
        "the train to the airport leaves every twenty minutes",
        "the children planted tomatoes in the garden behind the school",
        "please remember to lock the back door before you leave",
        "the library opens at nine in the morning on weekdays",
        "our neighbor repaired the broken fence last weekend",
        "the weather was warm and sunny for the whole holiday",
    ]
    from backend.audio import decode

    pieces = []
    for text in sentences:
        pieces += [decode(speak(text)), np.zeros(16_000 * 2, np.float32)]
    return encode(np.concatenate(pieces), 16_000, tmp_path / "long.flac", "flac").read_bytes(), sentences


def test_stream_true_sends_each_window_as_it_is_decoded_then_the_whole_text(base_server, speak, tmp_path):
    audio, sentences = long_speech(speak, tmp_path)
    headers = {"Authorization": f"Bearer {base_server.token}"}
    form = {"model": "whisper-1", "language": "en"}
    with httpx.Client(base_url=f"{base_server.url}/v1", headers=headers, timeout=300) as client:
        whole = client.post("/audio/transcriptions", files={"file": ("long.flac", audio)}, data=form).json()["text"]
        events = []
        with client.stream(
            "POST", "/audio/transcriptions", files={"file": ("long.flac", audio)}, data={**form, "stream": "true"}
        ) as response:
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line.removeprefix("data: ")))
    deltas = [e["delta"] for e in events if e["type"] == "transcript.text.delta"]
    assert len(deltas) >= 2, events
    assert events[-1]["type"] == "transcript.text.done" and events[-1]["text"] == whole
    assert "".join(deltas).strip() == whole.strip()
    assert overlap(" ".join(sentences), whole) >= 0.8, whole


def test_stream_true_through_the_sdk(sdk, sentence):
    with sentence.open("rb") as file:
        events = list(sdk.audio.transcriptions.create(model="whisper-1", file=file, stream=True))
    assert events[-1].type == "transcript.text.done" and overlap(SENTENCE, events[-1].text) == 1.0


def test_models_lists_the_loaded_model(sdk, base_converted):
    assert [m.id for m in sdk.models.list()] == [str(base_converted)]


def test_errors_reach_the_sdk_as_its_own_exceptions(sdk):
    import openai

    with pytest.raises(openai.BadRequestError, match="not an audio or video file"):
        sdk.audio.transcriptions.create(model="whisper-1", file=("notes.txt", b"just some text" * 50))


def test_a_wrong_api_key_is_refused_as_an_authentication_error(base_server, sentence):
    import openai

    intruder = OpenAI(base_url=f"{base_server.url}/v1", api_key="a-guessed-key-0000", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="access token"), sentence.open("rb") as file:
        intruder.audio.transcriptions.create(model="whisper-1", file=file)
