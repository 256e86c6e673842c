"""The remote engine against real servers: faster-whisper-server (third-party, PyPI) and Hush itself,
with faults put between them by ``FaultProxy`` (a 500, a cut connection, a killed server, a wrong key)."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest

from backend.audio import wav_bytes
from backend.engine.openai_client import ServerClient
from backend.engine.remote import RemoteEngine, RemoteFailed, in_sequence, plan_chunks
from backend.engine.servers import EngineChoice, Server
from backend.transcript import Cancelled, Options, Partial, Request, Segment, Word
from tests.engine.test_real_weights import ENGLISH, HEARD, LONG_FORM, PAUSE_SECONDS
from tests.support.helpers import wait_until
from tests.support.peers import FaultProxy, free_port
from tests.support.real_weights import overlap, words


def remote(*urls: str, key: str | None = None, chunk_seconds: float = 120.0, concurrency: int = 1) -> RemoteEngine:
    servers = tuple(Server(url, key=key, concurrency=concurrency).checked() for url in urls)
    return RemoteEngine(EngineChoice("servers", servers), chunk_seconds)


def root(url: str) -> str:
    """``http://127.0.0.1:PORT/v1`` → ``http://127.0.0.1:PORT``."""
    return url.removesuffix("/").removesuffix("/v1")


@pytest.fixture(scope="module")
def spoken(hear) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """Three minutes of distinct sentences with pauses, and where each was spoken."""
    pause = np.zeros(int(16_000 * PAUSE_SECONDS), np.float32)
    parts, spans, start = [], [], 0.0
    for sentence in LONG_FORM:
        clip = hear(sentence)
        parts += [clip, pause]
        spans.append((sentence, start, start + len(clip) / 16_000))
        start += (len(clip) + len(pause)) / 16_000
    return np.concatenate(parts), spans


def unheard(segments: list[Segment], spans: list[tuple[str, float, float]]) -> list:
    """The sentences whose time holds too few of their words."""
    missing = []
    for sentence, start, end in spans:
        there = " ".join(s.text for s in segments if s.start < end + 1 and s.end > start - 1)
        if overlap(sentence, there) < HEARD:
            missing.append((round(start, 1), sentence, there))
    return missing


def out_of_order(segments: list[Segment], duration: float) -> list:
    """Segments outside the audio or reversed, and neighbours that overlap or go back in time."""
    wrong: list = [s for s in segments if not 0 <= s.start <= s.end <= duration + 0.01]
    wrong += [(a, b) for a, b in itertools.pairwise(segments) if not (a.start <= b.start and a.end <= b.start + 0.01)]
    return wrong


# -- cutting ---------------------------------------------------------------------------------------
def test_chunks_cover_everything_and_are_cut_in_pauses():
    spans = [(1.0, 5.0), (6.0, 50.0), (52.0, 100.0), (101.0, 130.0), (140.0, 170.0)]
    chunks = plan_chunks(spans, 180.0, limit=60.0)
    assert chunks[0][0] == 0.0 and chunks[-1][1] == 180.0
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks)), "contiguous: nothing left out"
    for _, end in chunks[:-1]:
        assert not any(start < end < stop for start, stop in spans), f"a cut at {end} s falls inside speech"
    assert all(end - start <= 90.0 for start, end in chunks)
    assert plan_chunks([(0.0, 200.0)], 200.0, limit=60.0) == [(0.0, 60.0), (60.0, 120.0), (120.0, 200.0)]


def test_a_servers_overlapping_segments_are_put_in_sequence():
    given = [Segment(5.0, 9.0, "b"), Segment(1.0, 5.5, "a", (Word(5.2, 5.6, "a", 1.0),)), Segment(8.5, 8.7, "c")]
    ordered = in_sequence(given, after=2.0)
    assert [s.text for s in ordered] == ["a", "b", "c"]
    assert not out_of_order(ordered, 10.0)
    assert ordered[0].start == 2.0 and ordered[0].words[0].end == 5.5


# -- real servers ------------------------------------------------------------------------------------
def test_faster_whisper_server_transcribes_a_clip(fws_peer, hear):
    engine = remote(fws_peer.url)
    transcript = engine.transcribe(hear(ENGLISH[0]), Options())
    assert overlap(ENGLISH[0], transcript.text) >= 0.8, transcript.text
    assert transcript.language == "en"
    assert transcript.model == f"whisper-1 on 127.0.0.1:{fws_peer.port}"
    assert transcript.segments and not any(s.words for s in transcript.segments), "this server gives no words"
    engine.close()


def test_the_upload_is_heard_as_it_goes(fws_peer, spoken):
    """The bytes handed to the connection are reported piece by piece, up to the whole WAV."""
    audio = spoken[0][: 16_000 * 20]
    client = ServerClient(Server(fws_peer.url).checked())
    heard: list[int] = []
    answer = client.transcribe(audio, Options(language="en"), sent=heard.append)
    assert answer.text
    assert len(heard) >= 5 and heard == sorted(heard), heard
    assert heard[-1] == len(wav_bytes(audio)) == 44 + 2 * len(audio)
    client.close()


def test_three_minutes_are_split_across_two_servers(fws_peer, fws_second_peer, spoken):
    audio, spans = spoken
    proxies = [FaultProxy(root(fws_peer.url)), FaultProxy(root(fws_second_peer.url))]
    engine = remote(*(p.url for p in proxies), chunk_seconds=45)
    progress: list[tuple[float, str | None]] = []
    partials: list[Partial] = []
    request = Request(audio=audio, options=Options(language="en"), on_partial=partials.append,
                      on_progress=lambda done, stage=None: progress.append((done, stage)))  # fmt: skip
    transcript = engine.submit(request).result(600)
    chunks = int(transcript.timings["chunks"])
    assert chunks >= 4 and len(audio) / 16_000 >= 175
    assert all(p.transcriptions >= 1 for p in proxies), [p.transcriptions for p in proxies]
    assert sum(p.transcriptions for p in proxies) == chunks
    assert not out_of_order(transcript.segments, transcript.duration)
    assert not unheard(transcript.segments, spans)
    assert len(words(transcript.text)) <= 1.1 * sum(len(words(s)) for s in LONG_FORM), transcript.text
    fractions = [done for done, _ in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert progress[-1][1].startswith("All ") and f"{chunks} of {chunks} pieces transcribed" in progress[-1][1]
    assert all(stage and "127.0.0.1" in stage for _, stage in progress), "each report says where the audio goes"
    assert len(partials) == chunks and partials[-1].segments == tuple(transcript.segments)
    for proxy in proxies:
        proxy.stop()
    engine.close()


def test_a_hush_server_gives_words_in_time(hush_peer, hear):
    audio = hear(ENGLISH[1], pad_seconds=1.0)
    engine = remote(hush_peer.url + "v1", key=hush_peer.token)
    transcript = engine.transcribe(audio, Options())
    assert overlap(ENGLISH[1], transcript.text) >= 0.8, transcript.text
    placed = [w for s in transcript.segments for w in s.words]
    assert len(placed) >= len(ENGLISH[1].split()) - 2, placed
    assert all(s.start - 0.01 <= w.start <= w.end <= s.end + 0.01 for s in transcript.segments for w in s.words)
    assert placed[0].start >= 0.8, "the second of silence before the speech is kept in the times"
    engine.close()


def test_a_server_without_verbose_json_gives_plain_text_in_one_segment(fws_peer, hear):
    """Asked for words, then segments, a server that refuses both is asked for json, and only
    json from then on."""
    proxy = FaultProxy(root(fws_peer.url), ["400", "400"])
    engine = remote(proxy.url)
    audio = hear(ENGLISH[0])
    transcript = engine.transcribe(audio, Options())
    assert overlap(ENGLISH[0], transcript.text) >= 0.8, transcript.text
    assert [(s.start, s.end, s.words) for s in transcript.segments] == [(0.0, round(len(audio) / 16_000, 3), ())]
    assert proxy.transcriptions == 3
    engine.transcribe(audio, Options())
    assert proxy.transcriptions == 4, "the form that worked is remembered"
    proxy.stop()
    engine.close()


def test_a_finished_prefix_is_not_sent_again(fws_peer, spoken):
    """A restart resumes: the chunks an earlier run saved (``Partial``) are kept, the rest are sent."""
    audio, spans = spoken
    spans = spans[:12]
    audio = audio[: int(spans[-1][2] * 16_000) + 16_000]  # twelve sentences, about 85 s
    until = (spans[5][2] + spans[6][1]) / 2  # in the pause after the sixth sentence
    proxy = FaultProxy(root(fws_peer.url))
    engine = remote(proxy.url, chunk_seconds=45)
    earlier = Partial(engine.model_id, "en", until, (Segment(0.0, 1.0, "Saved earlier."),), ((),))
    transcript = engine.submit(Request(audio=audio, options=Options(language="en"), resume=earlier)).result(600)
    assert transcript.segments[0].text == "Saved earlier."
    assert all(s.start >= until - 0.01 for s in transcript.segments[1:])
    assert not unheard(transcript.segments, spans[6:])
    assert overlap(spans[0][0], transcript.text) < HEARD, "the saved part was transcribed again"
    proxy.stop()
    engine.close()


# -- faults --------------------------------------------------------------------------------------------
def test_a_server_killed_mid_chunk_loses_nothing(peer_factory, base_ct2, fws_peer, spoken):
    audio, spans = spoken
    audio = audio[: int(spans[8][2] * 16_000) + 16_000]  # nine sentences, about 70 s
    doomed = peer_factory(base_ct2)
    proxy = FaultProxy(root(doomed.url))
    engine = remote(proxy.url, fws_peer.url, chunk_seconds=25)
    future = engine.submit(Request(audio=audio, options=Options(language="en")))
    assert proxy.arrived.wait(60), "the doomed server never got a chunk"
    doomed.kill()
    transcript = future.result(600)
    assert not out_of_order(transcript.segments, transcript.duration)
    assert not unheard(transcript.segments, spans[:9])
    proxy.stop()
    engine.close()


@pytest.mark.parametrize("faults", [["500", "500"], ["cut"]], ids=["500 twice", "connection cut"])
def test_a_server_that_fails_then_works_is_tried_again(fws_peer, hear, faults):
    proxy = FaultProxy(root(fws_peer.url), list(faults))
    engine = remote(proxy.url)
    transcript = engine.transcribe(hear(ENGLISH[2]), Options())
    assert overlap(ENGLISH[2], transcript.text) >= 0.8, transcript.text
    assert proxy.transcriptions == len(faults) + 1
    proxy.stop()
    engine.close()


def test_a_wrong_key_stops_the_job_at_once_with_the_servers_sentence(hush_peer, hear):
    proxy = FaultProxy(root(hush_peer.url))
    engine = remote(proxy.url, key="not-the-token-0123456789")
    with pytest.raises(RemoteFailed, match=r"refused the request \(401: .+\)\. Check the API key") as failure:
        engine.transcribe(hear(ENGLISH[0]), Options())
    assert "not-the-token" not in str(failure.value)
    assert proxy.transcriptions == 1, "a refused key is not tried again"
    proxy.stop()
    engine.close()


def test_a_server_that_repeats_the_key_does_not_get_it_into_the_history(fws_peer, hear):
    proxy = FaultProxy(root(fws_peer.url), ["401"])
    engine = remote(proxy.url, key="sk-repeated-0123456789")
    with pytest.raises(RemoteFailed, match=r"Incorrect API key provided: \[the key\]") as failure:
        engine.transcribe(hear(ENGLISH[0]), Options())
    assert "sk-repeated" not in str(failure.value)
    proxy.stop()
    engine.close()


def test_an_unreachable_server_fails_the_job_after_its_retries(hear):
    engine = remote(f"http://127.0.0.1:{free_port()}/v1")
    started = time.monotonic()
    with pytest.raises(RemoteFailed, match=r"127\.0\.0\.1:\d+ cannot be reached .* Tried 5 times"):
        engine.transcribe(hear(ENGLISH[0]), Options())
    assert time.monotonic() - started < 30
    engine.close()


def test_a_server_that_answers_a_web_page_is_named(fws_peer, hear):
    proxy = FaultProxy(root(fws_peer.url), ["html"])
    engine = remote(proxy.url)
    with pytest.raises(RemoteFailed, match=r"did not answer as a Whisper server does \(it sent text/html"):
        engine.transcribe(hear(ENGLISH[0]), Options())
    assert proxy.transcriptions == 1
    proxy.stop()
    engine.close()


def test_a_redirect_elsewhere_is_not_followed_with_the_key(fws_peer, hear):
    elsewhere = FaultProxy(root(fws_peer.url))
    proxy = FaultProxy(root(fws_peer.url), [f"redirect:{elsewhere.url}/audio/transcriptions"])
    engine = remote(proxy.url, key="sk-remote-secret-0123456789")
    with pytest.raises(RemoteFailed, match="does not follow redirects"):
        engine.transcribe(hear(ENGLISH[0]), Options())
    assert proxy.requests[0][2] == "Bearer sk-remote-secret-0123456789"
    assert elsewhere.requests == []
    for server in (proxy, elsewhere):
        server.stop()
    engine.close()


def test_cancel_stops_a_job_waiting_on_a_server(fws_peer, hear):
    proxy = FaultProxy(root(fws_peer.url), ["hold"])
    engine = remote(proxy.url)
    cancel = threading.Event()
    future = engine.submit(Request(audio=hear(ENGLISH[0]), cancel=cancel))
    assert proxy.arrived.wait(30)
    cancel.set()
    wait_until(future.done, 5, "the cancelled job to end")
    with pytest.raises(Cancelled):
        future.result()
    proxy.stop()
    engine.close()
