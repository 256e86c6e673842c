"""backend/engine/encoder.py: the encoder over part of a window, on the random-weight checkpoint and real
whisper-base."""

from __future__ import annotations

import numpy as np
import torch
from transformers import WhisperForConditionalGeneration, WhisperProcessor

from backend.engine import encoder
from backend.engine.features import log_mel
from backend.transcript import Options
from tests.support.real_weights import overlap


def test_the_context_is_the_audio_and_two_seconds_at_least_ten_at_most_the_window():
    assert encoder.context_frames(3.2, 3000) == 1000
    assert encoder.context_frames(9.5, 3000) == 1200
    assert encoder.context_frames(29.0, 3000) == 3000


def test_the_whole_window_encodes_exactly_as_transformers_does(random_checkpoint):
    model = WhisperForConditionalGeneration.from_pretrained(random_checkpoint).eval()
    processor = WhisperProcessor.from_pretrained(random_checkpoint)
    audio = np.random.default_rng(0).standard_normal(16_000 * 4).astype(np.float32) * 0.1
    features = log_mel(audio, processor.feature_extractor)
    with torch.inference_mode():
        ours = encoder.encode(model.get_encoder(), features, features.shape[-1]).last_hidden_state
        theirs = model.get_encoder()(features).last_hidden_state
        part = encoder.encode(model.get_encoder(), features, 1500).last_hidden_state
    torch.testing.assert_close(ours, theirs)
    assert part.shape[1] == 750


def test_a_live_pass_over_part_of_the_window_hears_the_same_words(base_engine, hear, monkeypatch):
    sentence = "The quiet pilot opened the heavy camera at the top of the hill."
    audio = hear(sentence)
    encoded: list[int] = []
    encode = encoder.encode
    monkeypatch.setattr(encoder, "encode", lambda *args: encoded.append(args[2]) or encode(*args))
    whole = base_engine.transcribe(audio, Options(language="en", temperature=0.0, words=False))
    part = base_engine.transcribe(audio, Options(language="en", temperature=0.0, short_context=True))
    assert encoded == [1000]  # 10 s of the window, for this sentence only
    assert overlap(sentence, part.text) >= 0.8 and overlap(sentence, whole.text) >= 0.8, (part.text, whole.text)
    assert all(not segment.words for segment in part.segments)  # the aligner reads whole windows
