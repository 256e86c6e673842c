"""Building the int8 model from its checkpoint one layer at a time, never the whole float32 model.

transformers' ``from_pretrained`` materialises every float32 weight (memory-mapped: the
pages it reads count in the process's memory) before int8 quantization can start, so its
peak is the whole float32 model, several times the int8 one it ends as. Here the
model is built on the meta device (no memory), then each encoder and decoder layer gets
its tensors read from the ``.safetensors`` files (plain reads into the tensor, no map) and
is quantized at once (``precision.to_int8``); what stays float (convolutions, norms,
positions) is read as it is, and the token embedding once in float32, first (while little
else is in memory), for the output projection's int8 copy and its own (``Int8Embedding``). The
freed float32 memory goes back to the system after each layer (``memory.trim``).
A checkpoint this cannot read whole (another file format, missing tensors) returns
``None``: the caller loads it the usual way.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import torch
from transformers import WhisperConfig, WhisperForConditionalGeneration
from transformers.generation import GenerationConfig

from backend.engine import memory, precision

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}


class Checkpoint:
    """The tensors of a folder's ``*.safetensors`` files: where each is, read one at a time."""

    def __init__(self, folder: Path) -> None:
        self.where: dict[str, tuple[Path, int, int, str, list[int]]] = {}
        for file in sorted(folder.glob("*.safetensors")):
            with file.open("rb") as handle:
                (size,) = struct.unpack("<Q", handle.read(8))
                header = json.loads(handle.read(size))
            for name, entry in header.items():
                if name != "__metadata__":
                    begin, end = entry["data_offsets"]
                    self.where[name] = (file, 8 + size + begin, end - begin, entry["dtype"], entry["shape"])

    def __contains__(self, name: str) -> bool:
        return name in self.where and self.where[name][3] in DTYPES

    def read(self, name: str, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        file, offset, length, kind, shape = self.where[name]
        tensor = torch.empty(shape, dtype=DTYPES[kind])
        with file.open("rb", buffering=0) as handle:
            handle.seek(offset)
            view = memoryview(tensor.view(-1).view(torch.uint8).numpy()) if length else memoryview(b"")
            if handle.readinto(view) != length:
                raise OSError(f"{file} ends inside {name}")
        return tensor.to(dtype)


def load_int8(
    model_class: type[WhisperForConditionalGeneration], folder: Path, config: WhisperConfig, attention: str
) -> WhisperForConditionalGeneration | None:
    """``model_class`` from ``folder`` with every Linear in int8 (see the module's docstring), or
    ``None`` where the checkpoint is not one this can read."""
    checkpoint = Checkpoint(folder)
    config._attn_implementation = attention
    with torch.device("meta"):
        model = model_class(config)
    tied = model.get_output_embeddings().weight is model.get_input_embeddings().weight
    wanted = [name for name, _ in model.named_parameters()] + [name for name, _ in model.named_buffers()]
    if not all(name in checkpoint for name in wanted if not (tied and name == "proj_out.weight")):
        return None
    reduce_range = not precision.has_vnni()
    stacks = [(name, stack) for name, stack in model.named_modules() if isinstance(stack, torch.nn.ModuleList)]
    inside = {id(module) for _, stack in stacks for module in stack.modules()}
    with torch.no_grad():
        outside_the_layers(model, inside, checkpoint, tied, reduce_range)  # first, while little else is in memory
        memory.trim()
        for name, stack in stacks:
            for index, layer in enumerate(stack):
                materialise(layer, f"{name}.{index}", checkpoint)
                precision.to_int8(layer, reduce_range)
                memory.trim()  # the layer's float32 weights: gone before the next layer's come
    if any(tensor.is_meta for tensor in [*model.parameters(), *model.buffers()]):
        return None
    model.generation_config = GenerationConfig.from_pretrained(folder, local_files_only=True)
    return model.eval()


def outside_the_layers(
    model: WhisperForConditionalGeneration, inside: set[int], checkpoint: Checkpoint, tied: bool, reduce_range: bool
) -> None:
    """Every module but those ``inside`` the layer stacks read from ``checkpoint``; the token
    embedding is float32 here for a moment, and leaves as the output projection's int8 copy and
    its own (nothing of it may stay referenced: 159 MB for whisper-small)."""
    for name, module in model.named_modules():
        if id(module) not in inside:
            materialise(module, name, checkpoint, recurse=False)
    embedding = model.get_input_embeddings()
    if tied:
        model.get_output_embeddings().weight = embedding.weight
    model.set_output_embeddings(quantized(model.get_output_embeddings(), reduce_range))
    model.set_input_embeddings(precision.Int8Embedding(embedding))  # only looked up: a quarter of float32


def quantized(linear: torch.nn.Module, reduce_range: bool) -> torch.nn.Module:
    """``linear`` in int8, as ``precision.to_int8`` turns the Linear layers inside a module."""
    holder = torch.nn.Sequential(linear)
    precision.to_int8(holder, reduce_range)
    return holder[0]


def materialise(module: torch.nn.Module, prefix: str, checkpoint: Checkpoint, recurse: bool = True) -> None:
    """``module``'s parameters and buffers (with ``recurse``, its children's too) read from ``checkpoint``."""
    for path, owner in module.named_modules(prefix=prefix) if recurse else [(prefix, module)]:
        for key, value in list(owner.named_parameters(recurse=False)):
            name = f"{path}.{key}" if path else key
            if value.is_meta and name in checkpoint:
                setattr(owner, key, torch.nn.Parameter(checkpoint.read(name), requires_grad=False))
        for key, value in list(owner.named_buffers(recurse=False)):
            name = f"{path}.{key}" if path else key
            if value.is_meta and name in checkpoint:
                owner.register_buffer(key, checkpoint.read(name))
