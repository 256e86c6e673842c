"""backend/engine/sequential.py: how long-form decoding moves from one window to the next."""

from __future__ import annotations

import pytest
import torch
from transformers import WhisperConfig, WhisperForConditionalGeneration

from backend.engine.sequential import LongFormWhisper, cut_at_edge, text_less_seek

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


@pytest.fixture(scope="module")
def ours() -> LongFormWhisper:
    """A minute model with Whisper's 30-second window (only its config is read)."""
    size = dict(d_model=8, encoder_attention_heads=1, decoder_attention_heads=1, encoder_ffn_dim=8, decoder_ffn_dim=8)
    return LongFormWhisper(WhisperConfig(encoder_layers=1, decoder_layers=1, max_source_positions=WINDOW // 2, **size))


THEIRS = WhisperForConditionalGeneration


def retrieve(model, tokens: list[int], window_frames: int = WINDOW, outputs: dict | None = None, offset: float = 60.0):
    return model._retrieve_segment(
        seek_sequence=torch.tensor(tokens),
        seek_outputs=[outputs or {}],
        time_offset=torch.tensor([offset], dtype=torch.float64),
        timestamp_begin=BEGIN,
        seek_num_frames=torch.tensor([window_frames]),
        time_precision=0.02,
        time_precision_features=0.01,
        input_stride=2,
        prev_idx=0,
        idx=0,
        return_token_timestamps=False,
        decoder_input_ids=torch.tensor([[1, 2, 3]]),
    )


def spans(segments) -> list[tuple[float, float]]:
    return [(float(s["start"]), float(s["end"])) for s in segments]


def test_a_lone_start_timestamp_no_longer_skips_the_window(ours):
    """transformers (like openai-whisper) skips a whole window decoded to ``<|3.40|>`` alone,
    losing every word in it; the next window now starts at 3.40 s."""
    assert retrieve(THEIRS, [ts(3.4)])[1] == WINDOW
    segments, frames = retrieve(ours, [ts(3.4)])
    assert (segments, frames) == ([], 340)


@pytest.mark.parametrize("ending", [[], [ts(12.0)]], ids=["single-timestamp-ending", "unfinished-segment"])
def test_windows_with_text_are_cut_into_segments_as_before(ours, ending):
    tokens = [ts(0.0), WORD, ts(1.0), ts(1.5), WORD, WORD, ts(2.5), *ending]
    mine, theirs = retrieve(ours, tokens), retrieve(THEIRS, tokens)
    assert mine[1] == theirs[1]
    assert spans(mine[0]) == spans(theirs[0]) == [(60.0, 61.0), (61.5, 62.5)]


@pytest.mark.parametrize("end", [29.9, 29.98, 30.0])
def test_a_segment_closed_at_the_window_edge_is_decoded_again_from_its_start(ours, end):
    """The words at a window's very end are the model's guess at speech that runs on past
    it: the next window starts where that segment began instead of where it "ended"."""
    tokens = [ts(0.0), WORD, ts(1.0), ts(25.1), WORD, WORD, ts(end)]
    assert spans(retrieve(THEIRS, tokens)[0]) == [(60.0, 61.0), (85.1, 60.0 + end)]
    segments, frames = retrieve(ours, tokens)
    assert (spans(segments), frames) == ([(60.0, 61.0)], 2510)


@pytest.mark.parametrize(
    ("tokens", "window_frames"),
    [
        ([ts(0.0), WORD, ts(1.0), ts(25.1), WORD, ts(29.8)], WINDOW),  # ends before the edge
        ([ts(0.2), WORD, WORD, ts(30.0)], WINDOW),  # one segment filling the window: nothing to gain
        ([ts(0.0), WORD, ts(1.0), ts(5.1), WORD, ts(8.0)], 800),  # the audio's last window ends with the audio
    ],
    ids=["before-the-edge", "whole-window", "last-window"],
)
def test_segments_away_from_a_full_windows_edge_are_kept(ours, tokens, window_frames):
    mine, theirs = retrieve(ours, tokens, window_frames), retrieve(THEIRS, tokens, window_frames)
    assert spans(mine[0]) == spans(theirs[0])
    assert mine[1] == theirs[1]


def test_the_edge_rule_needs_progress():
    assert cut_at_edge(25.1, 29.95, 30.0)
    assert not cut_at_edge(25.1, 29.5, 30.0)
    assert not cut_at_edge(0.1, 30.0, 30.0)


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


def test_a_windows_segments_keep_no_reference_to_its_whole_output(ours):
    """With the temperature fallback on, each window's output holds its scores (tokens x vocabulary
    floats, ~20 MB for 100 tokens); kept in every segment, memory grew with the audio's length."""
    scores = {"scores": [torch.zeros(51865)] * 3}
    segments, _ = retrieve(ours, [ts(0.0), WORD, ts(1.0), ts(1.5), WORD, ts(2.5)], outputs=scores, offset=0.0)
    assert len(segments) == 2 and all("result" not in segment for segment in segments)
