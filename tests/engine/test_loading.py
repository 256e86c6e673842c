"""backend/engine/loading.py: the int8 model built layer by layer computes what transformers' load +
quantization does."""

from __future__ import annotations

import shutil

import torch
from transformers import WhisperConfig

from backend.engine import attention, loading, precision
from backend.engine.sequential import LongFormWhisper


def reference(folder) -> LongFormWhisper:
    """transformers' own load of ``folder``, then Hush's int8 quantization of the whole model."""
    model = LongFormWhisper.from_pretrained(folder, attn_implementation=attention.NAME, local_files_only=True)
    return precision.apply_precision(model.eval(), precision.Precision.INT8, [])


def outputs(model, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.inference_mode():
        encoded = model.get_encoder()(features).last_hidden_state
        ids = torch.tensor([[model.generation_config.decoder_start_token_id] * 4])
        return encoded, model(encoder_outputs=(encoded,), decoder_input_ids=ids).logits


def test_layer_by_layer_gives_the_same_int8_model(random_checkpoint):
    config = WhisperConfig.from_pretrained(random_checkpoint)
    ours = loading.load_int8(LongFormWhisper, random_checkpoint, config, attention.NAME)
    theirs = reference(random_checkpoint)
    assert ours.config._attn_implementation == attention.NAME
    assert ours.generation_config.to_dict() == theirs.generation_config.to_dict()
    assert ours.get_input_embeddings().weight.dtype == torch.int8
    assert not any(isinstance(m, torch.nn.Linear) for m in ours.modules())  # every Linear in int8
    features = torch.randn(1, config.num_mel_bins, 2 * config.max_source_positions)
    for mine, reference_output in zip(outputs(ours, features), outputs(theirs, features), strict=True):
        torch.testing.assert_close(mine, reference_output, rtol=1e-4, atol=1e-4)


def test_a_checkpoint_missing_a_tensor_is_left_to_transformers(random_checkpoint, tmp_path):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "partial"
    shutil.copytree(random_checkpoint, folder)
    tensors = load_file(folder / "model.safetensors")
    del tensors["model.encoder.layer_norm.weight"]
    save_file(tensors, folder / "model.safetensors")
    config = WhisperConfig.from_pretrained(folder)
    assert loading.load_int8(LongFormWhisper, folder, config, attention.NAME) is None
