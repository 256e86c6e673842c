"""Whisper's decoder run one step at a time for Hush's greedy loop, over a cache of its own.

The layers are transformers' (``WhisperDecoder``'s own modules, int8 or not); what is
replaced is the call around them. Each step through transformers' ``WhisperDecoder`` goes
through its output capturing, mask building and cache bookkeeping, and its cache appends
every step with ``torch.cat`` (a new tensor of the whole history per layer and step): overhead
at every step that this call around the same layers avoids, with the same numbers in float32
(``tests/engine/test_decoder.py``). Here the self-attention keys and values are written into room
kept ahead (grown ``ROOM`` tokens at a time), the cross-attention keys are stored
transposed for one matmul per step (as ``attention.py`` computes them), and the rows of a
batch that have finished are dropped with ``keep``. transformers' ``generate`` (beam search,
the sequential long-form path) and the aligner keep transformers' own decoder call.
"""

from __future__ import annotations

import torch
from torch import nn

#: Tokens of room the self-attention buffers are grown by.
ROOM = 64


class StepDecoder:
    """``decoder`` (a ``WhisperDecoder``) over encoder outputs ``hidden`` (a batch of windows): call it
    with the next tokens of every row for the decoder's last hidden states."""

    def __init__(self, decoder: nn.Module, hidden: torch.Tensor, dtype: torch.dtype, room: int = ROOM) -> None:
        self.decoder, self.room = decoder, room
        self.layers = list(decoder.layers)
        self.length = 0
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.cross_keys, self.cross_values = self._cross_attention_cache(hidden, dtype)

    def _cross_attention_cache(
        self, hidden: torch.Tensor, dtype: torch.dtype
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Every layer's keys (transposed) and values of ``hidden`` in ``dtype``, made one row of the
        batch at a time, so a batch's float32 copy never exists whole."""
        rows, frames = hidden.shape[:2]
        keys, values = [], []
        for layer in self.layers:
            attention = layer.encoder_attn
            heads, width = attention.num_heads, attention.head_dim
            key = torch.empty(rows, heads, width, frames, dtype=dtype, device=hidden.device)
            value = torch.empty(rows, heads, frames, width, dtype=dtype, device=hidden.device)
            for row in range(rows):
                key[row] = attention.k_proj(hidden[row]).view(frames, heads, width).permute(1, 2, 0)
                value[row] = attention.v_proj(hidden[row]).view(frames, heads, width).transpose(0, 1)
            keys.append(key)
            values.append(value)
        return keys, values

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        """The hidden states after ``ids`` (rows x new tokens), which join the cache."""
        start, end = self.length, self.length + ids.shape[1]
        decoder = self.decoder
        x = decoder.embed_tokens(ids) + decoder.embed_positions.weight[start:end]
        for index, layer in enumerate(self.layers):
            x = x + self._self_attention(index, layer.self_attn, layer.self_attn_layer_norm(x), start)
            x = x + self._cross_attention_step(index, layer.encoder_attn, layer.encoder_attn_layer_norm(x))
            x = x + layer.fc2(layer.activation_fn(layer.fc1(layer.final_layer_norm(x))))
        self.length = end
        return decoder.layer_norm(x)

    def _self_attention(self, index: int, attention: nn.Module, x: torch.Tensor, start: int) -> torch.Tensor:
        rows, count = x.shape[:2]
        end = start + count
        heads, width = attention.num_heads, attention.head_dim

        def split(projected: torch.Tensor) -> torch.Tensor:
            return projected.view(rows, count, heads, width).transpose(1, 2)

        if index == len(self.keys) or end > self.keys[index].shape[2]:
            self._grow(index, (rows, heads, end + self.room, width), x.dtype, x.device)
        keys, values = self.keys[index], self.values[index]
        keys[:, :, start:end] = split(attention.k_proj(x))
        values[:, :, start:end] = split(attention.v_proj(x))
        query = split(attention.q_proj(x) * attention.scaling)
        mask = None
        if count > 1:  # each new token sees the cache and the new tokens up to itself
            mask = torch.ones(count, end, dtype=torch.bool, device=x.device).tril(diagonal=start)
        out = nn.functional.scaled_dot_product_attention(
            query, keys[:, :, :end], values[:, :, :end], attn_mask=mask, scale=1.0
        )
        return attention.out_proj(out.transpose(1, 2).reshape(rows, count, heads * width))

    def _grow(self, index: int, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> None:
        grown = [torch.empty(shape, dtype=dtype, device=device) for _ in range(2)]
        if index < len(self.keys):
            for into, old in zip(grown, (self.keys[index], self.values[index]), strict=True):
                into[:, :, : self.length] = old[:, :, : self.length]
            self.keys[index], self.values[index] = grown
        else:
            self.keys.append(grown[0])
            self.values.append(grown[1])

    def _cross_attention_step(self, index: int, attention: nn.Module, x: torch.Tensor) -> torch.Tensor:
        rows, count = x.shape[:2]
        heads, width = attention.num_heads, attention.head_dim
        keys, values = self.cross_keys[index], self.cross_values[index]
        if count > 1:  # the first call, over the prompt: in the query's precision
            keys, values = keys.to(x.dtype), values.to(x.dtype)
        query = (attention.q_proj(x) * attention.scaling).view(rows, count, heads, width).transpose(1, 2)
        scores = torch.matmul(query.to(keys.dtype), keys).to(x.dtype).softmax(dim=-1)
        out = torch.matmul(scores.to(values.dtype), values).to(x.dtype)
        return attention.out_proj(out.transpose(1, 2).reshape(rows, count, heads * width))

    def rewind(self, length: int) -> None:
        """Forget every token from position ``length`` on (a draft the model parted from): the next
        call writes over them."""
        self.length = min(self.length, length)

    def keep(self, rows: torch.Tensor) -> None:
        """Go on with only these rows of the batch (by their current index)."""
        for cache in (self.keys, self.values, self.cross_keys, self.cross_values):
            cache[:] = [tensor[rows] for tensor in cache]
