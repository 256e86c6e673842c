"""How the model's numbers are stored on each device: the speed/quality trade of Hush.

CPU: int8 dynamic quantization of every ``nn.Linear`` (weights int8, activations
quantized on the fly). The Linear layers are nearly all of Whisper's compute, so this
roughly halves the time of fp32 while the greedy tokens stay the same on the test
checkpoints (``tests/test_precision.py``); where the top two candidates for a token are
nearly tied, int8 may pick the other one. CUDA: float16. MPS: float32 (float16 on MPS
has produced garbage with Whisper in some torch releases).
"""

from __future__ import annotations

from enum import StrEnum

import torch


class Precision(StrEnum):
    AUTO = "auto"
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"
    INT8 = "int8"


DTYPES = {Precision.FLOAT16: torch.float16, Precision.BFLOAT16: torch.bfloat16}


def resolve_precision(precision: Precision | str, device: torch.device) -> Precision:
    """``auto`` → the fastest precision known to keep Whisper's output on ``device``."""
    precision = Precision(precision)
    if precision is not Precision.AUTO:
        if precision is Precision.INT8 and device.type != "cpu":
            raise ValueError("int8 runs on the CPU only; use float16 on a GPU.")
        return precision
    return {"cpu": Precision.INT8, "cuda": Precision.FLOAT16}.get(device.type, Precision.FLOAT32)


def load_dtype(precision: Precision) -> torch.dtype:
    """The dtype to load weights in (int8 quantizes a float32 model afterwards)."""
    return DTYPES.get(precision, torch.float32)


def apply_precision(model: torch.nn.Module, precision: Precision) -> torch.nn.Module:
    """Quantize ``model`` in place if ``precision`` asks for it; returns the model to use."""
    if precision is Precision.INT8:
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    return model
