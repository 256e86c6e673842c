"""How long audio is walked window by window.

transformers implements OpenAI's sequential algorithm: decode a window with timestamps,
keep its complete segments, move on to where the last one ended. Two cases lose or
garble speech, and both are mended here:

* A window decoded to timestamps and no text (``<|3.40|>`` then end-of-text, the model
  saying "speech starts at 3.40 s but does not fit here"). Both transformers and
  openai-whisper read that as "nothing in this window" and skip the whole window, with
  every word in it. Here the next window starts at that timestamp instead.
* A segment closed at the window's very end (``<|25.10|> ... <|29.98|>``): the speech
  most likely runs on past the edge, and the model guessed the cut-off words. Here it is
  treated like an unfinished segment: dropped, and the next window starts where it began.

Each window's segments are told to a listener as soon as they are final (``listening``), so
a long file's text can be shown and streamed while the rest is still being decoded.

The engine encodes a one-window clip once and hands ``generate`` the encoder output;
transformers would reuse it for every window, so a clip whose decoding seeks inside
it would decode the start again. Here the encoder output only serves the first window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from transformers import WhisperForConditionalGeneration

#: Hears a window's finished segments: dicts with ``start``/``end`` (seconds, tensors) and ``tokens``.
SegmentListener = Callable[[list[dict]], None]

#: A segment that ends this close to the end of a full window is taken as cut off there.
EDGE_SECONDS = 0.1
#: ... unless it starts this early: decoding it again from its start must move on.
MIN_ADVANCE_SECONDS = 0.5


def text_less_seek(tokens: list[int], timestamp_begin: int, input_stride: int, window_frames: int) -> int | None:
    """Mel frames to move on by when ``tokens`` (one window's output, no end-of-text)
    hold only timestamps, the last one after the window's start; ``None`` otherwise."""
    if not tokens or any(t < timestamp_begin for t in tokens) or tokens[-1] == timestamp_begin:
        return None
    return min((tokens[-1] - timestamp_begin) * input_stride, int(window_frames))


def cut_at_edge(start: float, end: float, window_seconds: float) -> bool:
    """Whether a window's last segment (``start``/``end`` in seconds into the window)
    reaches the edge of the window and is worth decoding again from its start."""
    return end >= window_seconds - EDGE_SECONDS and start >= MIN_ADVANCE_SECONDS


class LongFormWhisper(WhisperForConditionalGeneration):
    """Whisper whose long-form decoding seeks to a text-less window's last timestamp,
    decodes a segment cut off by the window's end again in the next window, and encodes
    every window after the first from its own features."""

    _listener: SegmentListener | None = None

    @contextmanager
    def listening(self, listener: SegmentListener | None) -> Iterator[None]:
        """Tell ``listener`` each window's segments during the ``generate`` calls inside; a nested call
        (a live update run between the windows of a file) has its own and restores the outer one."""
        outer, self._listener = self._listener, listener
        try:
            yield
        finally:
            self._listener = outer

    def generate_with_fallback(self, *, seek: torch.Tensor, kwargs: dict, **rest):
        if bool(seek.any()):
            kwargs = {key: value for key, value in kwargs.items() if key != "encoder_outputs"}
        return super().generate_with_fallback(seek=seek, kwargs=kwargs, **rest)

    def _retrieve_segment(self, **arguments):
        segments, frames = self._window_segments(**arguments)
        for segment in segments:  # the window's whole output (its scores, with the fallback on): not read
            segment.pop("result", None)  # here, and kept for every window it would make memory grow with the audio
        if segments and self._listener is not None:
            self._listener(segments)
        return segments, frames

    def _window_segments(self, *, seek_sequence, timestamp_begin, seek_num_frames, input_stride, prev_idx, **rest):
        window_frames = int(seek_num_frames[prev_idx])
        frames = text_less_seek(seek_sequence.tolist(), int(timestamp_begin), int(input_stride), window_frames)
        if frames is not None:
            return [], frames
        segments, frames = WhisperForConditionalGeneration._retrieve_segment(
            seek_sequence=seek_sequence,
            timestamp_begin=timestamp_begin,
            seek_num_frames=seek_num_frames,
            input_stride=input_stride,
            prev_idx=prev_idx,
            **rest,
        )
        # the last window of the audio ends with the audio, not inside speech
        if segments and window_frames == int(input_stride) * self.config.max_source_positions:
            offset, frame_seconds = float(rest["time_offset"][prev_idx]), float(rest["time_precision_features"])
            start, end = (float(segments[-1][key]) - offset for key in ("start", "end"))
            if cut_at_edge(start, end, window_frames * frame_seconds):
                return segments[:-1], round(start / frame_seconds)
        return segments, frames
