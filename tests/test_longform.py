"""backend/longform.py: how long-form decoding moves from one window to the next."""

from __future__ import annotations

import pytest
import torch
from transformers import WhisperForConditionalGeneration

from backend.longform import LongFormWhisper, text_less_seek

BEGIN = 50364  # <|0.00|> in the multilingual vocabulary
WORD = 1000
WINDOW = 3000  # mel frames in a 30-second window


def ts(seconds: float) -> int:
    return BEGIN + round(seconds / 0.02)


@pytest.mark.parametrize(
    ("tokens", "frames"),
    [
        ([ts(3.4)], 340),  # "speech starts at 3.40 s": the next window starts there
        ([ts(0.0), ts(5.0)], 500),  # an empty segment up to 5 s
        ([ts(30.0)], WINDOW),  # never past the window
        ([ts(0.0)], None),  # nothing at all in the window: generate moves on by the window
        ([], None),
        ([ts(0.0), WORD, ts(1.0)], None),  # text: generate's own rules apply
        ([ts(0.5), WORD], None),
    ],
)
def test_a_window_without_text_seeks_to_its_last_timestamp(tokens, frames):
    assert text_less_seek(tokens, BEGIN, 2, WINDOW) == frames


def retrieve(model_class, tokens: list[int]):
    return model_class._retrieve_segment(
        seek_sequence=torch.tensor(tokens),
        seek_outputs=[{}],
        time_offset=torch.tensor([60.0], dtype=torch.float64),
        timestamp_begin=BEGIN,
        seek_num_frames=torch.tensor([WINDOW]),
        time_precision=0.02,
        time_precision_features=0.01,
        input_stride=2,
        prev_idx=0,
        idx=0,
        return_token_timestamps=False,
        decoder_input_ids=torch.tensor([[1, 2, 3]]),
    )


def test_a_lone_start_timestamp_no_longer_skips_the_window():
    """transformers (like openai-whisper) skips a whole window decoded to ``<|3.40|>`` alone,
    losing every word in it; the next window now starts at 3.40 s."""
    assert retrieve(WhisperForConditionalGeneration, [ts(3.4)])[1] == WINDOW
    segments, frames = retrieve(LongFormWhisper, [ts(3.4)])
    assert (segments, frames) == ([], 340)


def test_windows_with_text_are_cut_into_segments_as_before():
    tokens = [ts(0.0), WORD, ts(1.0), ts(1.5), WORD, WORD, ts(2.5)]
    ours, theirs = retrieve(LongFormWhisper, tokens), retrieve(WhisperForConditionalGeneration, tokens)
    assert ours[1] == theirs[1] == WINDOW
    assert [(s["start"], s["end"]) for s in ours[0]] == [(s["start"], s["end"]) for s in theirs[0]]
    assert [(float(s["start"]), float(s["end"])) for s in ours[0]] == [(60.0, 61.0), (61.5, 62.5)]


def test_a_precomputed_encoder_output_serves_only_the_first_window(monkeypatch):
    """The engine encodes a one-window clip once; a window after a seek inside it must be
    encoded from its own features, not decoded from the first window's encoder output."""
    seen = []

    def record(self, *, seek, kwargs, **rest):
        seen.append((int(seek[0]), "encoder_outputs" in kwargs))
        return "decoded"

    monkeypatch.setattr(WhisperForConditionalGeneration, "generate_with_fallback", record)
    model = LongFormWhisper.__new__(LongFormWhisper)
    encoded = {"encoder_outputs": torch.zeros(1, 1500, 8), "other": 1}
    for seek in (0, 340):
        assert model.generate_with_fallback(seek=torch.tensor([seek]), kwargs=encoded, segment_input=None) == "decoded"
    assert seen == [(0, True), (340, False)]
    assert "encoder_outputs" in encoded  # the caller's arguments are left alone
