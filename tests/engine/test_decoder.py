"""Whisper's decoder one step at a time (the greedy loop's) against transformers' own decoder call."""

from __future__ import annotations

import pytest
import torch
from transformers import WhisperForConditionalGeneration
from transformers.cache_utils import DynamicCache, EncoderDecoderCache

from backend.engine.decoder import StepDecoder


@pytest.fixture(scope="module")
def decoder(random_checkpoint):
    return WhisperForConditionalGeneration.from_pretrained(random_checkpoint).eval().get_decoder()


def transformers_states(decoder, hidden: torch.Tensor, calls: list[torch.Tensor], keep_after: int, keep: list[int]):
    cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
    states = []
    for number, ids in enumerate(calls):
        states.append(decoder(input_ids=ids, encoder_hidden_states=hidden, cache=cache).last_hidden_state)
        if number == keep_after:
            cache.batch_select_indices(torch.tensor(keep))
            hidden = hidden[keep]
    return states


def stepped_states(decoder, hidden: torch.Tensor, calls: list[torch.Tensor], keep_after: int, keep: list[int]):
    stepping = StepDecoder(decoder, hidden, torch.float32, room=2)
    states = []
    for number, ids in enumerate(calls):
        states.append(stepping(ids))
        if number == keep_after:
            stepping.keep(torch.tensor(keep))
    return states


def test_stepping_gives_transformers_decoders_states_as_the_cache_grows_and_rows_finish(decoder):
    hidden = torch.randn(3, 1500, decoder.config.d_model, generator=torch.Generator().manual_seed(1))
    prompt = torch.tensor([[1, 2, 3, 4]] * 3)
    steps = [torch.tensor([[5 + n], [9 + n], [13 + n]]) for n in range(6)]
    calls = [prompt, *steps[:3], *(step[[0, 2]] for step in steps[3:])]  # the middle row ends after 3 steps
    expected = transformers_states(decoder, hidden, calls, keep_after=3, keep=[0, 2])
    got = stepped_states(decoder, hidden, calls, keep_after=3, keep=[0, 2])
    for mine, theirs in zip(got, expected, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-4)


def test_several_tokens_after_a_cache_see_it_and_their_own_predecessors_only(decoder):
    hidden = torch.randn(1, 1500, decoder.config.d_model, generator=torch.Generator().manual_seed(2))
    calls = [torch.tensor([[1, 2, 3]]), torch.tensor([[4, 5, 6]])]
    expected = transformers_states(decoder, hidden, calls, keep_after=-1, keep=[])
    got = stepped_states(decoder, hidden, calls, keep_after=-1, keep=[])
    torch.testing.assert_close(got[1], expected[1], rtol=1e-4, atol=1e-4)


def test_cross_attention_keys_and_values_can_be_kept_in_bfloat16(decoder):
    hidden = torch.randn(1, 1500, decoder.config.d_model, generator=torch.Generator().manual_seed(3))
    calls = [torch.tensor([[1, 2, 3]]), torch.tensor([[4]])]
    exact = stepped_states(decoder, hidden, calls, keep_after=-1, keep=[])
    stepping = StepDecoder(decoder, hidden, torch.bfloat16)
    assert stepping.cross_keys[0].dtype == torch.bfloat16
    rounded = [stepping(ids) for ids in calls]
    for mine, theirs in zip(rounded, exact, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=0.05, atol=0.05)
