"""How the model's numbers are stored on each device: the speed/quality trade of Hush.

CPU: int8 of every ``nn.Linear`` as CTranslate2 (faster-whisper) runs it: weights
quantized per output channel, activations per token (each row of the input scaled to
its own peak) on the fly. The Linear layers are nearly all of Whisper's compute, so this
makes every published Whisper (whisper-tiny's width of 384 and up) much faster than in
float32. torch's dynamic quantization scales a whole activation with one number: a few
loud tokens (the encoder's feed-forward outputs have them) then leave the others a handful
of levels and the transcript loses words; scaled per token, int8 loses only what
CTranslate2's int8 loses (``benchmarks/wer.py``). PyTorch's
kernel quantizes the activations to 7 bits by default (``reduce_range``: CPUs without
VNNI sum pairs of products in 16 bits, which 8 bits could overflow); where the CPU has
VNNI (products summed in 32 bits) Hush uses all 8 bits. Where the model is sure of a
word, int8 picks the same one; where the top two candidates are nearly tied, int8 may
pick the other (on a random checkpoint, full of near-ties, it agrees on >= 90 % of
next-token choices: ``tests/engine/test_precision.py``).
Narrower models (the 128-wide test checkpoints) stay float32 on ``auto``: int8 makes
them no faster (their layers are too small for the quantization to pay for itself) and
costs them words.
CUDA: float16. MPS: float32 (float16 on MPS has produced garbage with Whisper in some
torch releases).
"""

from __future__ import annotations

import ctypes
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import torch

from backend.settings import Precision

MADV_DONTNEED = 4
DTYPES = {Precision.FLOAT16: torch.float16, Precision.BFLOAT16: torch.bfloat16}


#: int8 pays on the CPU from this model width (``d_model``) up: whisper-tiny's.
INT8_MIN_WIDTH = 384


def resolve_precision(precision: Precision | str, device: torch.device, width: int = INT8_MIN_WIDTH) -> Precision:
    """``auto`` → the fastest precision known to keep Whisper's output on ``device``
    for a model ``width`` (``d_model``) wide."""
    precision = Precision(precision)
    if precision is not Precision.AUTO:
        if precision is Precision.INT8 and device.type != "cpu":
            raise ValueError("int8 runs on the CPU only; use float16 on a GPU.")
        return precision
    if device.type == "cpu":
        return Precision.INT8 if width >= INT8_MIN_WIDTH else Precision.FLOAT32
    return Precision.FLOAT16 if device.type == "cuda" else Precision.FLOAT32


def load_dtype(precision: Precision) -> torch.dtype:
    """The dtype to load weights in (int8 quantizes a float32 model afterwards)."""
    return DTYPES.get(precision, torch.float32)


def apply_precision(model: torch.nn.Module, precision: Precision, weights: list[Path] = ()) -> torch.nn.Module:
    """Quantize ``model`` in place if ``precision`` asks for it; returns the model to use.

    ``weights`` are the checkpoint files the model was memory-mapped from: their pages
    are handed back to the OS as each layer is quantized (see ``quantize_int8``).
    """
    if precision is Precision.INT8:
        return quantize_int8(model, weights)
    return model


def row_scales(weight: torch.Tensor) -> torch.Tensor:
    """Each row's int8 step (its peak over 127), per output channel of a Linear or per token of an
    embedding. The peak from max and min: ``weight.abs()`` would be a whole float32 copy (160 MB
    for whisper-small's output projection), raising loading's peak memory."""
    return (row_peaks(weight)[:, 0] / 127).clamp_(min=1e-12)


def row_peaks(x: torch.Tensor) -> torch.Tensor:
    """Each row's largest magnitude (over the last dimension, kept), from max and min: no ``abs()`` copy."""
    return torch.maximum(x.amax(-1, keepdim=True), x.amin(-1, keepdim=True).neg_())


#: Input rows an ``Int8Linear`` scales and multiplies at a time: the scaled copy of a whole window's
#: 1500 rows would be the encoder's largest temporary (18 MB for whisper-small's feed-forward).
ROWS_AT_ONCE = 256


#: Set while rows from different audio share the kernel's calls (``alike_rows``).
_ROWS_ALIKE: ContextVar[bool] = ContextVar("rows_alike", default=False)


@contextmanager
def alike_rows() -> Iterator[None]:
    """Within it, every ``Int8Linear`` quantizes each input row alike, one row alone included: batched
    decoding wraps its calls in it, so a chunk decodes to the same text whatever else is in its batch
    and whether the others have finished. Outside, a single row (a dictation's or a live pass's step,
    never batched) keeps the kernel's own range, its own least and largest value: one call instead of
    several, a step's decoding markedly cheaper."""
    token = _ROWS_ALIKE.set(True)
    try:
        yield
    finally:
        _ROWS_ALIKE.reset(token)


class Int8Linear(torch.nn.Module):
    """An ``nn.Linear`` in int8: weights per output channel, each input row (token) scaled to its own
    peak before torch's dynamic int8 kernel, the output scaled back, exactly in float, and the bias
    added in float. The kernel quantizes its whole input with one range, from its least and largest
    value: a last row holding -1 and +1 (``span``) pins that range to [-1, 1] whatever the other rows
    are, so every row is quantized alike (symmetric, as CTranslate2's int8) and a row's result does not
    depend on which rows share the call. A single row outside ``alike_rows`` goes to the kernel as it
    is. Long inputs go through ``ROWS_AT_ONCE`` rows at a time."""

    def __init__(self, linear: torch.nn.Linear, reduce_range: bool) -> None:
        super().__init__()
        weight = linear.weight.detach().float()
        scales = row_scales(weight).double()
        zeros = torch.zeros(len(scales), dtype=torch.long)
        with warnings.catch_warnings():  # torch warns its quantized tensors will go; its int8 kernels need them
            warnings.filterwarnings("ignore", "torch.quantize_per_tensor", UserWarning)
            packed = torch.quantize_per_channel(weight, scales, zeros, 0, torch.qint8)
        self.packed = torch.ops.quantized.linear_prepack(packed, None)
        bias = linear.bias
        self.bias = None if bias is None else torch.nn.Parameter(bias.detach().float().clone(), requires_grad=False)
        self.reduce_range = reduce_range
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.out_dtype: torch.dtype | None = None  # None: the input's (see ``cross_attention_in_bfloat16``)
        span = torch.zeros(1, linear.in_features)
        span[0, 0], span[0, -1] = -1.0, 1.0
        self.register_buffer("span", span, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype, x = self.out_dtype or x.dtype, x.float()
        if x.numel() == x.shape[-1] and not _ROWS_ALIKE.get():
            out = torch.ops.quantized.linear_dynamic(x, self.packed, self.reduce_range)
            return (out if self.bias is None else out.add_(self.bias)).to(dtype)
        rows = x.reshape(-1, x.shape[-1])
        out = torch.empty(rows.shape[0], self.out_features, device=x.device)
        for first in range(0, rows.shape[0], ROWS_AT_ONCE):
            block = rows[first : first + ROWS_AT_ONCE]
            peak = row_peaks(block).clamp_(min=1e-30)
            scaled = torch.empty(len(block) + 1, self.in_features, device=x.device)
            torch.div(block, peak, out=scaled[:-1])
            scaled[-1] = self.span
            product = torch.ops.quantized.linear_dynamic(scaled, self.packed, self.reduce_range)
            torch.mul(product[:-1], peak, out=out[first : first + ROWS_AT_ONCE])
        if self.bias is not None:
            out.add_(self.bias)
        return out.view(*x.shape[:-1], self.out_features).to(dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, reduce_range={self.reduce_range}"


class Int8Embedding(torch.nn.Module):
    """A token embedding in int8, each token's row scaled to its own peak, as CTranslate2's int8
    stores it: only a few rows are looked up per step, so a quarter of float32's memory (38 MB
    for whisper-small, half of bfloat16's 76 MB) costs nothing in speed. Rows come out float32."""

    def __init__(self, embedding: torch.nn.Embedding, rows_at_once: int = 4096) -> None:
        super().__init__()
        weight = embedding.weight.detach()
        self.register_buffer("weight", torch.empty(weight.shape, dtype=torch.int8))
        self.register_buffer("scales", torch.empty(weight.shape[0], dtype=torch.float32))
        for first in range(0, weight.shape[0], rows_at_once):  # never a whole float32 copy
            rows = weight[first : first + rows_at_once].float()
            scales = row_scales(rows)
            self.weight[first : first + rows_at_once] = (rows / scales[:, None]).round_().to(torch.int8)
            self.scales[first : first + rows_at_once] = scales
        self.num_embeddings, self.embedding_dim = weight.shape

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.weight[ids].float().mul_(self.scales[ids].unsqueeze(-1))

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


def cross_attention_in_bfloat16(model: torch.nn.Module) -> None:
    """The int8 decoder's cross-attention keys and values come out in bfloat16: they are cached
    for a whole window (whisper-small: 110 MB in float32) and read at every decoding step, and
    ``attention.py`` takes them as they are (as the batched path caches them for whole windows)."""
    for layer in model.get_decoder().layers:
        for projection in (layer.encoder_attn.k_proj, layer.encoder_attn.v_proj):
            projection.out_dtype = torch.bfloat16


def has_vnni() -> bool:
    """Whether the CPU sums int8 products in 32 bits (AVX512-VNNI or AVX-VNNI)."""
    check = getattr(torch.cpu, "_is_vnni_supported", None)
    return bool(check and check()) and torch.backends.quantized.engine in ("x86", "fbgemm")


def to_int8(module: torch.nn.Module, reduce_range: bool) -> None:
    """Every ``nn.Linear`` inside ``module`` replaced by its ``Int8Linear``."""
    for name, child in module.named_children():
        if isinstance(child, torch.nn.Linear):
            setattr(module, name, Int8Linear(child, reduce_range))
        else:
            to_int8(child, reduce_range)


def quantize_int8(model: torch.nn.Module, weights: list[Path]) -> torch.nn.Module:
    """int8 quantization, one layer at a time, keeping peak memory near the result's.

    transformers memory-maps the float32 checkpoint; quantizing reads every weight, and
    each page read stays resident (counted in the process's memory) while the map lives.
    Dropping the map's pages after each layer (they are clean copies of the file, read
    again if ever touched) keeps one layer's pages resident at a time, not the whole
    float32 checkpoint's.
    """
    reduce_range = not has_vnni()
    layers = [module for module in model.modules() if isinstance(module, torch.nn.ModuleList)]
    for layer in (layer for modules in layers for layer in modules):
        to_int8(layer, reduce_range)
        release_pages(weights)
    to_int8(model, reduce_range)  # what is left: the output projection
    with torch.no_grad():
        # The token embedding is only looked up (the output projection, once tied to it, has its own copy now).
        model.set_input_embeddings(Int8Embedding(model.get_input_embeddings()))
        for tensor in [*model.parameters(), *model.buffers()]:  # what stays float (norms, positions) leaves the map
            tensor.data = tensor.data.clone()
    release_pages(weights)
    return model


def release_pages(files: list[Path]) -> None:
    """Tell Linux the mapped pages of ``files`` are not needed now (no-op elsewhere)."""
    if sys.platform != "linux" or not files:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    real = {os.path.realpath(f) for f in files}
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].strip() in real:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                libc.madvise(start, end - start, MADV_DONTNEED)
