"""The HTTP API (backend/web/app.py, routers, errors, limits) against a live server on 127.0.0.1."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest

from backend import audio
from tests.support.helpers import wait_until
from tests.support.media import MEDIA_FORMATS, encode
from tests.support.speech_corpus import write_wav
from tests.support.word_error import normalise


@pytest.fixture(scope="module")
def client(random_server):
    with random_server.client() as client:
        yield client


@pytest.fixture(scope="module")
def true_seconds(speech_samples) -> float:
    samples, rate = speech_samples
    return len(samples) / rate


def post(client, path, content: bytes, name: str = "clip.bin", **data):
    return client.post("/api/transcriptions", files={"file": (name, content)}, data=data)


def test_health_reports_the_ready_model_and_version(client, random_checkpoint):
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["version"]
    assert body["model"]["id"] == str(random_checkpoint)
    assert body["model"]["state"] == "ready" and "en" in body["model"]["languages"]


@pytest.mark.parametrize("kind", list(MEDIA_FORMATS))
def test_every_format_is_transcribed_with_its_true_duration(client, media, kind, true_seconds):
    response = post(client, "/api/transcriptions", media[kind].read_bytes(), f"speech.{kind}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["duration"] == pytest.approx(true_seconds, abs=0.1)
    assert body["text"].strip() and body["language"] == "en"
    assert body["segments"] and body["id"] and body["model"]
    assert body["timings"]["decode"] >= 0 and body["timings"]["total"] > 0


def test_language_and_task_are_passed_through(client, media):
    response = post(client, "", media["ogg"].read_bytes(), "a.ogg", language="fr", task="translate", temperature="0")
    assert response.status_code == 200, response.text
    assert response.json()["language"] == "fr"


def test_auto_or_empty_language_detects_it(client, media):
    for value in ("", "auto"):
        assert post(client, "", media["ogg"].read_bytes(), "a.ogg", language=value).json()["language"] == "en"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.webm", b"", "is empty"),
        ("noise.bin", bytes(range(256)) * 40, "not an audio or video file"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(500), "photo.png"),
    ],
)
def test_unusable_input_is_a_400_naming_what_was_received_and_the_server_keeps_serving(
    client, media, name, content, message
):
    response = post(client, "", content, name)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert message in detail and "Traceback" not in detail
    assert post(client, "", media["wav"].read_bytes(), "ok.wav").status_code == 200


def test_video_without_audio_is_a_400(client, tmp_path, speech_samples):
    samples, rate = speech_samples
    video = encode(samples, rate, tmp_path / "mute.mp4", "mp4", video_only=True).read_bytes()
    response = post(client, "", video, "mute.mp4")
    assert response.status_code == 400
    assert "no audio track" in response.json()["detail"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"task": "summarize"}, "task"),
        ({"language": "klingon"}, "Unknown language 'klingon'"),
        ({"temperature": "7"}, "temperature"),
    ],
)
def test_bad_parameters_are_a_422_with_a_sentence(client, media, data, message):
    response = post(client, "", media["wav"].read_bytes(), "a.wav", **data)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str) and message in response.json()["detail"]


def test_missing_file_field_is_a_422(client):
    response = client.post("/api/transcriptions", data={"language": "en"})
    assert response.status_code == 422 and "file" in response.json()["detail"]


def test_exports_render_the_servers_formats(client):
    transcript = {"text": "stop go", "segments": [{"start": 0.5, "end": 1.25, "text": "stop go"}]}
    srt = client.post("/api/exports/srt", json=transcript)
    assert srt.status_code == 200 and srt.headers["content-type"].startswith("application/x-subrip")
    assert srt.text == "1\n00:00:00,500 --> 00:00:01,250\nstop go\n"
    assert 'filename="transcript.srt"' in srt.headers["content-disposition"]
    assert client.post("/api/exports/vtt", json=transcript).text.startswith("WEBVTT")
    assert client.post("/api/exports/docx", json=transcript).status_code == 422


def test_concurrent_requests_all_get_answers(client, media):
    files = [media[kind].read_bytes() for kind in ("webm", "ogg", "mp3", "m4a", "flac", "wav")]
    with ThreadPoolExecutor(len(files)) as pool:
        responses = list(pool.map(lambda content: post(client, "", content, "c.bin"), files))
    assert [r.status_code for r in responses] == [200] * len(files)


def test_an_unexpected_failure_is_a_500_without_a_stack_trace(client, random_server, media, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(random_server.engine, "submit", explode)
    response = post(client, "", media["wav"].read_bytes(), "a.wav")
    assert response.status_code == 500
    assert "unexpected error (RuntimeError)" in response.json()["detail"]
    monkeypatch.undo()
    assert post(client, "", media["wav"].read_bytes(), "a.wav").status_code == 200


# -- limits -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_limit_server(start_server, random_checkpoint):
    live = start_server(model=random_checkpoint, max_upload_mb=1)
    live.wait_until_ready()
    return live


def test_an_upload_over_the_limit_is_a_413_from_its_length(small_limit_server):
    with small_limit_server.client() as client:
        response = post(client, "", bytes(3 * 2**20), "big.wav")
    assert response.status_code == 413
    assert "1 MB limit" in response.json()["detail"] and "HUSH_MAX_UPLOAD_MB" in response.json()["detail"]


def test_a_streamed_upload_is_cut_off_once_it_passes_the_limit(small_limit_server, media):
    sent = 0

    def body():
        nonlocal sent
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n\r\n'
        for _ in range(64):  # up to 4 MB in 64 KB chunks, no Content-Length
            sent += 65536
            yield bytes(65536)
        yield b"\r\n--x--\r\n"

    with small_limit_server.client() as client:
        response = client.post(
            "/api/transcriptions", content=body(), headers={"Content-Type": "multipart/form-data; boundary=x"}
        )
        assert response.status_code == 413
        assert post(client, "", media["wav"].read_bytes(), "ok.wav").status_code == 200


# -- model not ready ----------------------------------------------------------------------
def test_a_missing_model_is_a_503_that_says_what_to_do(start_server, media, tmp_path):
    live = start_server(model=tmp_path / "no-such-model")
    live.models.wait_until_loaded(30)
    with live.client() as client:
        health = client.get("/api/health").json()
        assert health["model"]["state"] == "missing"
        response = post(client, "", media["wav"].read_bytes(), "a.wav")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "does not exist" in response.json()["detail"]


def test_the_default_model_offline_starts_and_asks_for_a_download(start_server, media, no_internet):
    live = start_server(model="openai/whisper-small")
    live.models.wait_until_loaded(30)
    with live.client() as client:
        health = client.get("/api/health").json()
        response = post(client, "", media["wav"].read_bytes(), "a.wav")
    assert health["status"] == "ok" and health["model"]["state"] == "missing"
    assert "Connect to the internet once" in health["model"]["detail"]
    assert response.status_code == 503 and "HUSH_MODEL" in response.json()["detail"]


def test_while_loading_requests_get_a_503_with_retry_after_then_succeed(
    start_server, random_checkpoint, media, monkeypatch
):
    from backend.checkpoints import locate

    release = threading.Event()
    real_locate = locate.locate

    def slow_locate(*args):
        release.wait(60)
        return real_locate(*args)

    monkeypatch.setattr(locate, "locate", slow_locate)
    live = start_server(model=random_checkpoint)
    with live.client() as client:
        assert client.get("/api/health").json()["model"]["state"] == "loading"
        waiting = post(client, "", media["wav"].read_bytes(), "a.wav")
        assert waiting.status_code == 503 and waiting.headers["Retry-After"] == "5"
        assert "Loading" in waiting.json()["detail"]
        release.set()
        live.wait_until_ready()
        assert post(client, "", media["wav"].read_bytes(), "a.wav").status_code == 200


def test_a_client_that_leaves_does_not_lose_its_job(client, random_server, media, monkeypatch):
    import httpx

    engine = random_server.engine
    real_submit = engine.submit
    release = threading.Event()

    def slow_submit(request):
        slow = lambda done: (release.wait(10), request.on_progress(done))  # noqa: E731
        return real_submit(replace(request, on_progress=slow))

    monkeypatch.setattr(engine, "submit", slow_submit)
    with pytest.raises(httpx.ReadTimeout):
        client.post("/api/transcriptions", files={"file": ("left.wav", media["wav"].read_bytes())}, timeout=1.0)
    release.set()
    newest = client.get("/api/transcriptions", params={"limit": 1}).json()["items"][0]
    assert newest["filename"] == "left.wav"

    def finished() -> dict | None:
        job = client.get(f"/api/transcriptions/{newest['id']}").json()
        assert job["status"] in ("queued", "running", "done"), job
        return job if job["status"] == "done" else None

    job = wait_until(finished, 30, "the job of the client that left")
    assert job["text"] and job["segments"]


def test_the_page_is_revalidated_on_every_load(client):
    response = client.get("/")
    assert response.status_code == 200 and "<title>" in response.text
    assert response.headers["cache-control"] == "no-cache"


# -- the trained checkpoint: the words that were spoken, exactly ---------------------------------------
WORDS_PHRASE = "three seven stop go"  # what ``media`` says in every format
LONG_PHRASES = [
    "one two three four",
    "yes no",
    "left right up down",
    "stop go",
    "five six seven",
    "eight nine zero",
    "on off",
    "two four six eight",
    "go left",
    "nine one",
]


@pytest.fixture(scope="module")
def words_client(words_server):
    with words_server.client() as client:
        yield client


@pytest.mark.parametrize("kind", list(MEDIA_FORMATS))
def test_every_format_gives_the_spoken_words(words_client, media, kind):
    """Decoding, resampling and down-mixing keep the speech intact: the model hears the exact phrase
    (a halved sample rate or a lost channel would not pass)."""
    response = post(words_client, "", media[kind].read_bytes(), f"speech.{kind}")
    assert response.status_code == 200, response.text
    assert normalise(response.json()["text"]) == WORDS_PHRASE.split()


def test_a_long_recording_is_transcribed_window_after_window(words_client, speak, tmp_path):
    """Ten phrases with pauses span three of the model's 10-second windows: every word comes
    back once, in order (no window skipped, no word doubled at a seam), and every phrase lands
    in a segment."""
    pause = np.zeros(int(1.5 * audio.SAMPLE_RATE), np.float32)
    parts, spans, at = [pause], [], len(pause)
    for phrase in LONG_PHRASES:
        samples = audio.decode(speak(phrase))
        parts += [samples, pause]
        spans.append((at / audio.SAMPLE_RATE, (at + len(samples)) / audio.SAMPLE_RATE))
        at += len(samples) + len(pause)
    path = tmp_path / "long.wav"
    write_wav(path, np.concatenate(parts))
    response = post(words_client, "", path.read_bytes(), "long.wav")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["duration"] > 25
    assert normalise(body["text"]) == " ".join(LONG_PHRASES).split()
    segments = body["segments"]
    starts = [segment["start"] for segment in segments]
    assert starts == sorted(starts) and segments[-1]["end"] <= body["duration"] + 0.5
    for start, end in spans:  # every phrase is heard by some segment
        assert any(s["start"] < end and s["end"] > start for s in segments), (start, end, segments)
