"""The attention kernel each of Whisper's attention calls gets.

PyTorch's SDPA (flash) kernel is the fastest for whole windows: the encoder's 1500 x
1500 frames, the first decoder step. For one decoder query against the encoder output
(every later step's cross-attention) the work is reading the cached keys and values
once; there two plain matmuls are cheaper on the CPU than the flash kernel's blocking, and
those calls come at every decoding step. Keys and values may come
in bfloat16 (int8 models cache them so); scores and softmax stay in the query's float32.
Registered with transformers' ``AttentionInterface`` as :data:`NAME`; the engine loads
models with it, for transformers' ``generate`` and the aligner (Hush's greedy loop,
``decoder.py``, does the same two matmuls itself).
"""

from __future__ import annotations

import torch
from transformers import AttentionInterface, AttentionMaskInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import sdpa_mask

NAME = "hush_cpu"
#: Key lengths from which one query is cheaper as two matmuls (the 1500 encoder frames).
MATMUL_FROM_KEYS = 256


def attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """Two matmuls for one CPU query over many keys; SDPA for everything else."""
    if query.device.type != "cpu" or query.shape[2] != 1 or key.shape[2] < MATMUL_FROM_KEYS or module.training:
        key, value = key.to(query.dtype), value.to(query.dtype)
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    scores = torch.matmul(query.to(key.dtype), key.transpose(2, 3)).to(query.dtype) * scale
    if attention_mask is not None:
        scores = scores + attention_mask[..., : key.shape[2]]
    output = torch.matmul(scores.softmax(dim=-1).to(value.dtype), value).to(query.dtype)
    return output.transpose(1, 2).contiguous(), None


AttentionInterface.register(NAME, attention)
AttentionMaskInterface.register(NAME, sdpa_mask)
