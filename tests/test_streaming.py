"""backend/streaming.py: LocalAgreement-2 and the live session's buffer, with a scripted model."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np

from backend.streaming import SAMPLE_RATE, LiveSession, LocalAgreement, TimedWord, timed_words
from backend.transcript import Segment, Transcript


def words(*spec: tuple[str, float]) -> list[TimedWord]:
    """``("three", 0.2), ("seven", 0.6)`` → words each 0.3 s long starting there."""
    return [TimedWord(text, start, start + 0.3) for text, start in spec]


def test_a_word_is_confirmed_when_two_hypotheses_agree_on_it():
    agreement = LocalAgreement()
    assert agreement.insert(words(("three", 0.2), ("seven", 0.6))) == []
    assert [w.text for w in agreement.tentative] == ["three", "seven"]
    confirmed = agreement.insert(words(("Three", 0.2), ("seven,", 0.6), ("stop", 1.0)))
    assert [w.text for w in confirmed] == ["Three", "seven,"]  # case and punctuation do not matter
    assert [w.text for w in agreement.tentative] == ["stop"]


def test_confirmed_words_never_change_and_disagreement_stays_tentative():
    agreement = LocalAgreement()
    agreement.insert(words(("three", 0.2), ("seven", 0.6)))
    agreement.insert(words(("three", 0.2), ("seven", 0.6), ("stop", 1.0)))
    assert agreement.insert(words(("tree", 0.2), ("heaven", 0.6), ("top", 1.0))) == []
    assert [w.text for w in agreement.confirmed] == ["three", "seven"]
    assert [w.text for w in agreement.tentative] == ["top"]  # words before the confirmed end are dropped


def test_the_prompt_said_again_is_not_confirmed_twice():
    agreement = LocalAgreement()
    agreement.confirm_all(words(("three", 0.2), ("seven", 0.6)))
    again = words(("three", 0.85), ("seven", 1.0), ("stop", 1.4))  # times drift a little between passes
    agreement.insert(again)
    agreement.insert(again)
    assert [w.text for w in agreement.confirmed] == ["three", "seven", "stop"]


def test_after_a_pause_the_next_sentence_keeps_its_first_word():
    """Times shared out from a segment can end past the pause the buffer was cut at; the next
    sentence's first word, at the start of the new buffer, is still new."""
    agreement = LocalAgreement()
    agreement.confirm_all(words(("bread.", 4.9)))  # estimated to end at 5.2; the speech ended at 5.0
    agreement.settle(5.0)
    next_sentence = words(("Tomorrow", 5.0), ("they", 5.4))
    agreement.insert(next_sentence)
    agreement.insert(next_sentence)
    assert [w.text for w in agreement.confirmed] == ["bread.", "Tomorrow", "they"]
    assert agreement.confirmed_until == 5.7


def test_segment_times_are_shared_out_over_words_without_word_timings():
    transcript = Transcript("a bb", "en", 2.0, [Segment(1.0, 1.9, "a bb")], "m")
    found = timed_words(transcript, offset=10.0)
    assert [(w.text, round(w.start, 2), round(w.end, 2)) for w in found] == [("a", 11.0, 11.3), ("bb", 11.3, 11.9)]


class ScriptedModel:
    """Transcribes the buffer as the words whose (session) start times fall inside it."""

    def __init__(self, script: list[tuple[str, float]]) -> None:
        self.script = script
        self.calls: list[tuple[float, str | None]] = []

    def session(self, **kwargs) -> LiveSession:
        live = LiveSession(self.transcribe, speech=self.loud, **kwargs)
        self.live = live
        return live

    @staticmethod
    async def loud(audio: np.ndarray) -> list[tuple[float, float]]:
        """Where ``audio`` is loud, in 10 ms steps: the voice activity detector of these tests."""
        hop = SAMPLE_RATE // 100
        frames = np.abs(audio[: len(audio) // hop * hop].reshape(-1, hop)).max(axis=1) > 0.1
        spans, start = [], None
        for i, on in enumerate([*frames, False]):
            if on and start is None:
                start = i
            elif not on and start is not None:
                spans.append((start / 100, i / 100))
                start = None
        return spans

    async def transcribe(self, audio: np.ndarray, prompt: str | None, language: str | None) -> Transcript:
        start = self.live._buffer_start
        end = start + len(audio) / SAMPLE_RATE
        self.calls.append((round(len(audio) / SAMPLE_RATE, 2), prompt))
        heard = [(w, t) for w, t in self.script if start <= t and t + 0.3 <= end]
        segments = [Segment(t - start, t - start + 0.3, w) for w, t in heard]
        return Transcript(" ".join(w for w, _ in heard), "en", len(audio) / SAMPLE_RATE, segments, "m")


def run(live: LiveSession, audio: np.ndarray, step: float = 0.5) -> list:
    updates = []

    async def feed() -> None:
        for start in range(0, len(audio), int(step * SAMPLE_RATE)):
            live.feed(audio[start : start + int(step * SAMPLE_RATE)])
            if live.due():
                updates.append(await live.step())
        updates.append(await live.step(final=True))

    asyncio.run(feed())
    return updates


def speech_at(seconds: float, *spans: tuple[float, float]) -> np.ndarray:
    audio = np.zeros(int(seconds * SAMPLE_RATE), np.float32)
    for start, end in spans:
        audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)] = 0.5
    return audio


def test_a_session_confirms_while_speech_goes_on_and_everything_at_the_end():
    script = [(f"w{i}", 0.5 + 0.5 * i) for i in range(12)]  # a word every half second, 0.5 … 6.0 s
    model = ScriptedModel(script)
    updates = run(model.session(), speech_at(7.0, (0.4, 6.4)))
    confirmed = [u.confirmed for u in updates]
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(confirmed))
    assert any(u.confirmed and u.tentative for u in updates[:-1]), "nothing was confirmed before the end"
    assert updates[-1].confirmed == " ".join(w for w, _ in script) and updates[-1].tentative == ""


def test_silence_costs_no_compute():
    model = ScriptedModel([("hello", 0.5)])
    updates = run(model.session(), speech_at(20.0, (0.4, 0.9)))
    assert updates[-1].confirmed == "hello"
    assert sum(u.computed for u in updates) <= 3  # the speech, the pause after it, nothing for 19 s of silence


def test_the_buffer_is_cut_at_confirmed_segments_and_the_prompt_carries_the_text():
    script = [(f"w{i}", 0.5 + 0.5 * i) for i in range(50)]  # 25 s of speech without a pause
    model = ScriptedModel(script)
    updates = run(model.session(), speech_at(26.0, (0.4, 25.9)))
    assert updates[-1].confirmed == " ".join(w for w, _ in script)
    assert max(length for length, _ in model.calls) <= 12.0  # trimmed after 10 s, never the whole 26 s
    assert any(prompt and prompt.startswith("w0 w1") for _, prompt in model.calls)


def test_a_pause_settles_a_sentence_even_when_a_word_keeps_changing():
    script = [(f"w{i}", 0.5 + 0.5 * i) for i in range(6)]  # speech from 0.4 to 3.4 s, then a pause
    model = ScriptedModel(script)
    transcribe = model.transcribe

    async def wavering(audio, prompt, language):
        transcript = await transcribe(audio, prompt, language)
        flip = f"w1{'ab'[len(model.calls) % 2]}"  # the second word differs from pass to pass
        segments = [Segment(s.start, s.end, flip if s.text == "w1" else s.text) for s in transcript.segments]
        return Transcript(" ".join(s.text for s in segments), "en", transcript.duration, segments, "m")

    session = model.session()
    session.transcribe = wavering
    updates = run(session, speech_at(8.0, (0.4, 3.4)))
    settled = [u for u in updates[:-1] if len(u.confirmed.split()) == 6]
    assert settled, [u.confirmed for u in updates]  # before Stop: the pause settled it
    assert settled[0].seconds <= 5.0
