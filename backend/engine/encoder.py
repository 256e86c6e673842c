"""Encoding only the part of a window that holds audio: whisper.cpp's ``audio_ctx``, for live passes.

Whisper was trained on 30 s windows, its audio padded with silence to fill one, and its
encoder costs the same for 3 s of speech as for 30: a live pass over a short buffer spends
much of its time there, and the decoder's cross-attention reads all 1500 frames at every
step. Cutting the window to the audio is what whisper.cpp offers, but the decoder never saw
an encoder output much shorter than a window: cut to a few seconds, it falls into repetition
loops. So live passes encode the audio plus ``MARGIN_SECONDS``, at least ``MIN_SECONDS``
(``benchmarks/live.py`` compares their text with the final pass's); files keep the whole window.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers.modeling_outputs import BaseModelOutput

#: The least of a window a live pass encodes, in seconds.
MIN_SECONDS = 10.0
#: Silence kept after the audio, in seconds (Whisper expects its speech to end before the window does).
MARGIN_SECONDS = 2.0
#: Mel frames per second.
FRAMES_PER_SECOND = 100


def context_frames(seconds: float, window_frames: int) -> int:
    """Mel frames of the window to encode for ``seconds`` of audio (an even number: the encoder halves it)."""
    wanted = max(MIN_SECONDS, math.ceil(seconds + MARGIN_SECONDS)) * FRAMES_PER_SECOND
    return min(window_frames, int(wanted) // 2 * 2)


def encode(encoder: nn.Module, features: torch.Tensor, frames: int) -> BaseModelOutput:
    """transformers' ``WhisperEncoder.forward`` over the first ``frames`` of ``features`` (it only
    takes whole windows): the same layers, with the positions of the frames that are there."""
    hidden = nn.functional.gelu(encoder.conv1(features[..., :frames]))
    hidden = nn.functional.gelu(encoder.conv2(hidden)).permute(0, 2, 1)
    hidden = hidden + encoder.embed_positions.weight[: hidden.shape[1]].to(hidden.dtype)
    for layer in encoder.layers:
        hidden = layer(hidden, None)
    return BaseModelOutput(last_hidden_state=encoder.layer_norm(hidden))
