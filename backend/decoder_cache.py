"""The decoder's cache in Hush's greedy loop: self-attention keys and values written into room
kept ahead, cross-attention keys and values made once per window, layer by layer.

transformers' ``DynamicLayer`` appends each step's key and value with ``torch.cat``: a new
tensor of the whole history per layer and step, 24 of them a step for whisper-small, the
old ones freed at once. Besides the copying, blocks that come and go every step are what
keeps glibc from handing large blocks to ``mmap`` (``memory.py``). ``GrowingLayer`` writes
each step into a buffer with room for ``ROOM`` more tokens and hands attention a view of
the part written; the buffer is reallocated once per ``ROOM`` tokens.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.cache_utils import Cache, DynamicCache, DynamicLayer, EncoderDecoderCache

#: Tokens of room a self-attention buffer is grown by.
ROOM = 64


class GrowingLayer(DynamicLayer):
    """A ``DynamicLayer`` whose keys and values are views of buffers grown ``ROOM`` tokens at a time."""

    def __init__(self, room: int = ROOM) -> None:
        super().__init__()
        self.room = room
        self.length = 0
        self.key_buffer: torch.Tensor | None = None
        self.value_buffer: torch.Tensor | None = None

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        self.device = key_states.device
        self.is_initialized = True

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the step's keys and values after the cached ones; all of them, as views."""
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        end = self.length + key_states.shape[-2]
        if self.key_buffer is None or end > self.key_buffer.shape[-2]:
            self.key_buffer, self.value_buffer = (
                self._grown(buffer, states, end)
                for buffer, states in ((self.key_buffer, key_states), (self.value_buffer, value_states))
            )
        self.key_buffer[..., self.length : end, :] = key_states
        self.value_buffer[..., self.length : end, :] = value_states
        self._set_length(end)
        return self.keys, self.values

    def _grown(self, buffer: torch.Tensor | None, states: torch.Tensor, end: int) -> torch.Tensor:
        shape = (*states.shape[:-2], end + self.room, states.shape[-1])
        grown = torch.empty(shape, dtype=states.dtype, device=states.device)
        if buffer is not None and self.length:
            grown[..., : self.length, :] = buffer[..., : self.length, :]
        return grown

    def _set_length(self, length: int) -> None:
        self.length = length
        if self.key_buffer is None:
            self.keys = self.values = None
        else:
            self.keys = self.key_buffer[..., :length, :]
            self.values = self.value_buffer[..., :length, :]

    def get_seq_length(self) -> int:
        return self.length

    def reset(self) -> None:
        self.key_buffer = self.value_buffer = None
        self.length = 0
        super().reset()

    def crop(self, tokens_to_remove: int) -> None:
        if tokens_to_remove > 0:
            raise ValueError("crop takes the number of tokens to remove as a negative number")
        if self.is_initialized and tokens_to_remove:
            self._set_length(max(0, self.length + tokens_to_remove))

    def batch_repeat_interleave(self, repeats: int) -> None:
        if self.key_buffer is not None:
            self.key_buffer = self.key_buffer.repeat_interleave(repeats, dim=0)
            self.value_buffer = self.value_buffer.repeat_interleave(repeats, dim=0)
            self._set_length(self.length)

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.key_buffer is not None:
            self.key_buffer, self.value_buffer = self.key_buffer[indices], self.value_buffer[indices]
            self._set_length(self.length)

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        if self.key_buffer is not None:
            self.key_buffer = self.key_buffer.index_select(0, beam_idx.to(self.key_buffer.device))
            self.value_buffer = self.value_buffer.index_select(0, beam_idx.to(self.value_buffer.device))
            self._set_length(self.length)


class GrowingCache(DynamicCache):
    """A ``DynamicCache`` (what ``EncoderDecoderCache`` asks for to drop finished rows) of growing layers."""

    def __init__(self, layers: int) -> None:
        Cache.__init__(self, layers=[GrowingLayer() for _ in range(layers)])


def decoding_cache(decoder: nn.Module, hidden: torch.Tensor, dtype: torch.dtype) -> EncoderDecoderCache:
    """A cache for decoding ``hidden`` (encoder outputs, a batch): growing self-attention layers, and
    every layer's cross-attention keys and values made layer by layer in ``dtype``, one row of the
    batch at a time, so a batch's float32 copy never exists whole."""
    layers = decoder.layers
    cache = EncoderDecoderCache(GrowingCache(len(layers)), DynamicCache())
    rows, frames = hidden.shape[:2]
    for index, layer in enumerate(layers):
        attention = layer.encoder_attn
        shape = (rows, attention.num_heads, frames, attention.head_dim)
        keys, values = (torch.empty(shape, dtype=dtype, device=hidden.device) for _ in range(2))
        for row in range(rows):
            for projection, into in ((attention.k_proj, keys), (attention.v_proj, values)):
                into[row] = projection(hidden[row]).view(frames, attention.num_heads, -1).transpose(0, 1)
        cache.cross_attention_cache.update(keys, values, index)
        cache.is_updated[index] = True
    return cache
