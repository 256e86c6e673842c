"""How long audio is walked window by window.

transformers implements OpenAI's sequential algorithm: decode a window with timestamps,
keep its complete segments, move on to where the last one ended. One case loses
speech: a window decoded to timestamps and no text (``<|3.40|>`` then end-of-text, the
model saying "speech starts at 3.40 s but does not fit here"). Both transformers and
openai-whisper read that as "nothing in this window" and skip the whole window, with
every word in it. Here the next window starts at that timestamp instead.

The engine encodes a one-window clip once and hands ``generate`` the encoder output;
transformers would reuse it for every window, so a clip whose decoding seeks inside
it would decode the start again. Here the encoder output only serves the first window.
"""

from __future__ import annotations

import torch
from transformers import WhisperForConditionalGeneration


def text_less_seek(tokens: list[int], timestamp_begin: int, input_stride: int, window_frames: int) -> int | None:
    """Mel frames to move on by when ``tokens`` (one window's output, no end-of-text)
    hold only timestamps, the last one after the window's start; ``None`` otherwise."""
    if not tokens or any(t < timestamp_begin for t in tokens) or tokens[-1] == timestamp_begin:
        return None
    return min((tokens[-1] - timestamp_begin) * input_stride, int(window_frames))


class LongFormWhisper(WhisperForConditionalGeneration):
    """Whisper whose long-form decoding seeks to a text-less window's last timestamp
    and encodes every window after the first from its own features."""

    def generate_with_fallback(self, *, seek: torch.Tensor, kwargs: dict, **rest):
        if bool(seek.any()):
            kwargs = {key: value for key, value in kwargs.items() if key != "encoder_outputs"}
        return super().generate_with_fallback(seek=seek, kwargs=kwargs, **rest)

    @staticmethod
    def _retrieve_segment(*, seek_sequence, timestamp_begin, seek_num_frames, input_stride, prev_idx, **rest):
        frames = text_less_seek(
            seek_sequence.tolist(), int(timestamp_begin), int(input_stride), int(seek_num_frames[prev_idx])
        )
        if frames is not None:
            return [], frames
        return WhisperForConditionalGeneration._retrieve_segment(
            seek_sequence=seek_sequence,
            timestamp_begin=timestamp_begin,
            seek_num_frames=seek_num_frames,
            input_stride=input_stride,
            prev_idx=prev_idx,
            **rest,
        )
