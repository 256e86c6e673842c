"""backend/engine/voices.py on the real GE2E weights and real voices: Resemblyzer's own embeddings,
and who speaks when in real conversations (backend/engine/diarization.py behind it)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from backend.engine import voices
from backend.engine.voices import VoiceEncoder, speaker_turns
from backend.transcript import InvalidOptions, Options
from scripts.fetch_weights import weights_dir
from tests.support import conversations
from tests.support.conversations import SAMPLE_RATE, available
from tests.support.real_weights import missing


@pytest.fixture(scope="module")
def encoder(voice_weights) -> VoiceEncoder:
    return VoiceEncoder(voice_weights)


@pytest.fixture(scope="module")
def sample() -> conversations.Conversation:
    return available(conversations.pyannote_sample)


def test_mel_filters_are_librosas():
    librosa = pytest.importorskip("librosa")
    expected = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=voices.N_FFT, n_mels=voices.MELS)
    np.testing.assert_allclose(voices.mel_filters(), expected, rtol=1e-4, atol=1e-7)


def test_voice_prints_are_resemblyzers_on_real_speech(encoder, voice_weights, sample, monkeypatch):
    # Resemblyzer's own code, imported from the wheel its weights came from (scripts/fetch_weights.py
    # keeps it): installing the package would pull webrtcvad's sdist and the old ``typing`` backport.
    wheels = sorted((weights_dir() / "wheels").glob("Resemblyzer-0.1.4-*.whl"))
    if not wheels:
        missing("Resemblyzer's wheel is missing: run python scripts/fetch_weights.py")
    monkeypatch.syspath_prepend(str(wheels[0]))
    pytest.importorskip("librosa")
    pytest.importorskip("webrtcvad")
    import resemblyzer

    theirs = resemblyzer.VoiceEncoder(device="cpu", verbose=False, weights_fpath=voice_weights)
    wav = sample.audio[: 12 * SAMPLE_RATE] * voices.loudness_gain(sample.audio[: 12 * SAMPLE_RATE])
    _, partials, slices = theirs.embed_utterance(wav, return_partials=True, rate=2)
    ours = encoder.embed(wav, np.array([(s.start, s.start + 160 * voices.HOP) for s in slices]) / SAMPLE_RATE)
    cosines = np.sum(ours * partials, axis=1)
    assert len(cosines) >= 15 and cosines.min() >= 0.99, cosines


def test_a_two_voice_conversation_gets_two_speakers_turning_where_the_voices_change(encoder):
    talk = available(lambda: conversations.fish_conversation(minutes=1.0, seed=3))
    turns = speaker_turns(encoder, talk.audio, None, 1, 8)
    assert {t.speaker for t in turns} == {1, 2}
    changes = [b.start for a, b in zip(talk.turns, talk.turns[1:]) if a.speaker != b.speaker]
    found = [b.start for a, b in itertools.pairwise(turns) if a.speaker != b.speaker]
    # every change of voice is found within half a second (in the pause between the lines, mostly)
    for change in changes:
        assert min(abs(change - f) for f in found) <= 0.5, (change, found)
    assert len(found) <= len(changes) + 1


def test_one_voice_is_one_speaker(encoder):
    lines = [
        conversations.trim(conversations.decode(p)) for p in available(lambda: conversations.fillets_lines("v"))[:25]
    ]
    talk = conversations.conversation("big fish alone", {"v": lines}, ["v"] * len(lines))
    turns = speaker_turns(encoder, talk.audio, None, 1, 8)
    assert {t.speaker for t in turns} == {1}


def test_labelling_without_the_voice_encoder_says_how_to_get_it(monkeypatch, tmp_path):
    from backend.engine.engine import check_speakers

    monkeypatch.setenv("HUSH_CACHE_DIR", str(tmp_path))
    with pytest.raises(InvalidOptions, match=r"fetch_weights.py --voices"):
        check_speakers(Options(speakers="auto"))
    with pytest.raises(InvalidOptions, match="min_speakers"):
        check_speakers(Options(speakers="auto", min_speakers=5, max_speakers=2))
