"""backend/engine/attention.py: the kernel choice changes the speed, never the result."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from backend.engine import attention
from backend.engine.engine import Engine, StopWhenSet
from backend.status import ModelState
from backend.transcript import Options, Request


def encoder_attention() -> torch.nn.Module:
    """Stands in for a Whisper attention module that attends to every key (not causal)."""
    module = torch.nn.Module().eval()
    module.is_causal = False
    return module


@pytest.mark.parametrize(("queries", "keys"), [(1, 1500), (1, 300), (1, 40), (7, 1500), (1500, 1500)])
def test_every_shape_matches_sdpa(queries, keys):
    torch.manual_seed(0)
    query, key, value = (torch.randn(1, 6, n, 64) for n in (queries, keys, keys))
    output, _ = attention.attention(encoder_attention(), query, key, value, None, scaling=0.2)
    expected = F.scaled_dot_product_attention(query, key, value, scale=0.2).transpose(1, 2)
    torch.testing.assert_close(output, expected, atol=1e-5, rtol=1e-4)


def test_a_padding_mask_is_applied_on_the_matmul_path():
    torch.manual_seed(0)
    query, key, value = torch.randn(1, 2, 1, 16), torch.randn(1, 2, 400, 16), torch.randn(1, 2, 400, 16)
    mask = torch.zeros(1, 1, 1, 400)
    mask[..., 200:] = -torch.inf  # the second half is padding
    output, _ = attention.attention(encoder_attention(), query, key, value, mask)
    expected = F.scaled_dot_product_attention(query, key[:, :, :200], value[:, :, :200]).transpose(1, 2)
    torch.testing.assert_close(output, expected, atol=1e-5, rtol=1e-4)


def test_the_engine_decodes_the_same_tokens_as_with_plain_sdpa(random_checkpoint, media):
    from backend import audio

    engine = Engine(str(random_checkpoint), device="cpu")
    engine.start()
    assert engine.wait_until_loaded(120).state is ModelState.READY
    model, _ = engine._ready()
    assert model.config._attn_implementation == attention.NAME
    request = Request(audio=audio.decode(media["wav"]), options=Options(language="en", temperature=0))
    ours = engine._run(request, StopWhenSet()).text  # transformers' generate: the path that reads attention.NAME
    model.set_attn_implementation("sdpa")
    try:
        assert engine._run(request, StopWhenSet()).text == ours
    finally:
        model.set_attn_implementation(attention.NAME)
