"""backend/engine/features.py: block-wise log-mel equals the feature extractor's, at any length."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import WhisperFeatureExtractor

from backend.engine.features import log_mel


@pytest.fixture(scope="module")
def extractor(random_checkpoint) -> WhisperFeatureExtractor:
    return WhisperFeatureExtractor.from_pretrained(random_checkpoint)


@pytest.mark.parametrize("seconds", [0.3, 5, 30, 71.37])
def test_matches_the_feature_extractor(extractor, seconds):
    audio = (np.random.default_rng(0).standard_normal(int(seconds * 16_000)) * 0.1).astype(np.float32)
    long_form = len(audio) > extractor.n_samples
    expected = extractor(
        audio,
        sampling_rate=16_000,
        return_tensors="pt",
        **({"truncation": False, "padding": "longest"} if long_form else {}),
    ).input_features
    actual = log_mel(audio, extractor)
    assert actual.shape == expected.shape
    assert float((actual - expected).abs().max()) < 1e-4


def test_short_audio_is_padded_to_one_window(extractor):
    assert log_mel(np.zeros(1600, np.float32), extractor).shape[-1] == extractor.nb_max_frames
