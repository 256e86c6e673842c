"""Who said what through both APIs, on real whisper-base and a real two-voice conversation: labelled while
transcribing or afterwards, named, exported with voice tags, found by name, and OpenAI's ``diarized_json``
through the official SDK."""

from __future__ import annotations

import json
import re

import pytest
from openai import OpenAI

from tests.support import conversations
from tests.support.conversations import SAMPLE_RATE, available
from tests.support.media import encode


@pytest.fixture(scope="module")
def server(start_server, base_converted, voices_installed):
    server = start_server(model=base_converted)
    server.wait_until_ready(300)
    return server


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    """Half a minute of the two fish talking (Dutch), as a WAV file, with its true turns."""
    found = available(lambda: conversations.fish_conversation(minutes=0.5, seed=6))
    return found, encode(found.audio, SAMPLE_RATE, tmp_path_factory.mktemp("talk") / "fish.wav", "wav")


@pytest.fixture(scope="module")
def labelled(server, talk):
    _, path = talk
    with server.client() as client, path.open("rb") as audio:
        answer = client.post("/api/transcriptions", files={"file": audio}, data={"speakers": "auto"}, timeout=300)
    assert answer.status_code == 200, answer.text
    return answer.json()


def voices_of(vtt: str) -> list[str]:
    return re.findall(r"<v ([^>]+)>", vtt)


def test_a_transcription_asked_to_label_speakers_finds_both_voices(labelled, talk):
    truth, _ = talk
    assert labelled["speakers"] == {"1": "Speaker 1", "2": "Speaker 2"}
    assert all(s["speaker"] in (1, 2) for s in labelled["segments"])
    # most of the text is given to the voice that speaks it (turns mapped to the true speakers by time)
    agree = total = 0.0
    mapping: dict[int, dict[str, float]] = {}
    for segment in labelled["segments"]:
        for turn in truth.turns:
            shared = min(segment["end"], turn.end) - max(segment["start"], turn.start)
            if shared > 0:
                mapping.setdefault(segment["speaker"], {}).setdefault(turn.speaker, 0.0)
                mapping[segment["speaker"]][turn.speaker] += shared
    best = {speaker: max(votes, key=votes.get) for speaker, votes in mapping.items()}
    assert len(set(best.values())) == 2
    for votes in mapping.values():
        agree += max(votes.values())
        total += sum(votes.values())
    assert agree / total >= 0.85


def test_names_reach_the_exports_and_the_search(server, labelled):
    job = labelled["id"]
    with server.client() as client:
        named = client.put(f"/api/transcriptions/{job}/speakers/1/name", json={"name": "Marijke"})
        assert named.status_code == 200, named.text
        assert named.json()["speakers"]["1"] == "Marijke"
        vtt = client.get(f"/api/transcriptions/{job}/export/vtt").text
        assert "Marijke" in voices_of(vtt) and "Speaker 2" in voices_of(vtt)
        text = client.get(f"/api/transcriptions/{job}/export/txt").text
        assert text.startswith(("Marijke: ", "Speaker 2: "))
        document = json.loads(client.get(f"/api/transcriptions/{job}/export/json").text)
        assert {s["speaker"] for s in document["segments"]} == {"Marijke", "Speaker 2"}
        found = client.get("/api/transcriptions", params={"q": "Marijke"}).json()["items"]
        assert [item["id"] for item in found] == [job]

        merged = client.put(f"/api/transcriptions/{job}/speakers/2/merge", json={"into": 1}).json()
        assert merged["speakers"] == {"1": "Marijke"}
        undone = client.delete(f"/api/transcriptions/{job}/speakers/2/merge").json()
        assert set(undone["speakers"]) == {"1", "2"}
        refused = client.put(f"/api/transcriptions/{job}/speakers/9/name", json={"name": "Nobody"})
        assert refused.status_code == 404 and "no speaker 9" in refused.json()["detail"]


def test_speakers_are_labelled_afterwards_without_transcribing_again(server, talk):
    _, path = talk
    with server.client() as client:
        with path.open("rb") as audio:
            plain = client.post("/api/transcriptions", files={"file": audio}, timeout=300).json()
        assert plain["speakers"] == {} and all(s["speaker"] is None for s in plain["segments"])
        before = client.get(f"/api/transcriptions/{plain['id']}").json()
        later = client.post(f"/api/transcriptions/{plain['id']}/speakers", json={"speakers": 2}, timeout=300)
        assert later.status_code == 200, later.text
        job = later.json()
        assert set(job["speakers"]) == {"1", "2"}
        assert job["timings"] == before["timings"]  # the transcript was not made again
        assert " ".join(s["text"] for s in job["segments"]).split() == plain["text"].split()


def test_diarized_json_through_the_openai_sdk(server, talk):
    _, path = talk
    sdk = OpenAI(base_url=f"{server.url}/v1", api_key=server.token, max_retries=0, timeout=300)
    with path.open("rb") as audio:
        result = sdk.audio.transcriptions.create(model="whisper-1", file=audio, response_format="diarized_json")
    assert result.task == "transcribe" and abs(result.duration - talk[0].duration) < 0.1
    assert {s.speaker for s in result.segments} == {"Speaker 1", "Speaker 2"}
    assert all(s.type == "transcript.text.segment" and s.end >= s.start for s in result.segments)
    with path.open("rb") as audio:
        verbose = sdk.audio.transcriptions.create(
            model="whisper-1", file=audio, response_format="verbose_json", extra_body={"speakers": "2"}
        )
    assert {s.speaker for s in verbose.segments} == {"Speaker 1", "Speaker 2"}


def test_a_bad_speaker_count_is_refused_with_a_reason(server, talk):
    _, path = talk
    with server.client() as client, path.open("rb") as audio:
        answer = client.post("/api/transcriptions", files={"file": audio}, data={"speakers": "lots"})
    assert answer.status_code == 422 and "speakers must be off, auto or a number" in answer.json()["detail"]
