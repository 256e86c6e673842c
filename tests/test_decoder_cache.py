"""The greedy loop's decoder cache: growing self-attention layers, cross-attention made once."""

from __future__ import annotations

import torch
from transformers import WhisperForConditionalGeneration
from transformers.cache_utils import DynamicCache, DynamicLayer, EncoderDecoderCache

from backend.decoder_cache import GrowingLayer, decoding_cache


def steps(rows: int, lengths: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    return [
        (torch.randn(rows, 2, n, 4, generator=generator), torch.randn(rows, 2, n, 4, generator=generator))
        for n in lengths
    ]


def test_a_growing_layer_holds_what_a_dynamic_layer_holds_across_its_growths():
    growing, dynamic = GrowingLayer(room=3), DynamicLayer()
    for keys, values in steps(2, [5, 1, 1, 1, 1, 4, 1]):
        grown = growing.update(keys, values)
        concatenated = dynamic.update(keys, values)
        assert all(torch.equal(a, b) for a, b in zip(grown, concatenated, strict=True))
        assert growing.get_seq_length() == dynamic.get_seq_length()
    assert growing.key_buffer.shape[-2] < growing.get_seq_length() + 2 * growing.room


def test_a_growing_layer_reallocates_once_per_room_not_every_step():
    layer = GrowingLayer(room=8)
    buffers, last = 0, None
    for keys, values in steps(1, [4] + [1] * 18):
        layer.update(keys, values)
        buffers, last = buffers + (layer.key_buffer is not last), layer.key_buffer
    assert buffers == 3  # room for 4 + 8 tokens, then 13 + 8, then 22 + 8


def test_rows_kept_and_tokens_cropped_stay_consistent():
    growing, dynamic = GrowingLayer(room=2), DynamicLayer()
    history = steps(3, [3, 1, 1])
    for keys, values in history:
        growing.update(keys, values)
        dynamic.update(keys, values)
    keep = torch.tensor([2, 0])
    growing.batch_select_indices(keep)
    dynamic.batch_select_indices(keep)
    growing.crop(-1)
    dynamic.crop(-1)
    ((keys, values),) = steps(2, [1])
    assert torch.equal(growing.update(keys, values)[0], dynamic.update(keys, values)[0])
    assert growing.get_seq_length() == dynamic.get_seq_length() == 5


def test_decoding_with_the_cache_matches_decoding_with_transformers_own(random_checkpoint):
    model = WhisperForConditionalGeneration.from_pretrained(random_checkpoint).eval()
    decoder = model.get_decoder()
    hidden = torch.randn(2, 1500, model.config.d_model, generator=torch.Generator().manual_seed(1))
    ids = torch.tensor([[1, 2, 3], [1, 2, 3]])
    with torch.inference_mode():
        ours = decoding_cache(decoder, hidden, torch.float32)
        theirs = EncoderDecoderCache(DynamicCache(), DynamicCache())
        outputs = []
        for cache, encoder_states in ((ours, hidden[:, :1]), (theirs, hidden)):
            first = decoder(input_ids=ids, encoder_hidden_states=encoder_states, cache=cache).last_hidden_state
            states = [first[-1:]]
            for token in (4, 5, 6):
                step = torch.full((len(encoder_states), 1), token)
                output = decoder(input_ids=step, encoder_hidden_states=encoder_states, cache=cache)
                states.append(output.last_hidden_state[-1:])
                if token == 5:  # the first row is done: only the second goes on
                    cache.batch_select_indices(torch.tensor([1]))
                    encoder_states = encoder_states[1:]
            outputs.append(torch.cat(states, dim=1))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-4, atol=1e-4)
