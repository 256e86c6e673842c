"""Where speech is: Silero VAD, the voice activity detector faster-whisper and WhisperX use.

The ``silero-vad`` package ships its model and runs it on torch, so it adds no runtime.
Live transcription asks it whether new audio holds speech (silence costs no model pass).
torch is imported on first use, so importing this module stays cheap for the web layer.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000

_model: Any = None
#: The model keeps recurrent state between its 32 ms frames: one caller at a time.
_lock = threading.Lock()


def speech_spans(
    audio: np.ndarray, threshold: float = 0.5, min_speech: float = 0.25, min_silence: float = 0.1
) -> list[tuple[float, float]]:
    """``(start, end)`` seconds of each stretch of speech in 16 kHz mono ``audio``."""
    global _model
    import torch
    from silero_vad import get_speech_timestamps, load_silero_vad

    with _lock:
        if _model is None:
            _model = load_silero_vad()
        spans = get_speech_timestamps(
            torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)),
            _model,
            threshold=threshold,
            sampling_rate=SAMPLE_RATE,
            min_speech_duration_ms=int(min_speech * 1000),
            min_silence_duration_ms=int(min_silence * 1000),
            return_seconds=True,
        )
    return [(float(s["start"]), float(s["end"])) for s in spans]


def has_speech(audio: np.ndarray) -> bool:
    """Whether anyone speaks in ``audio`` (at least a quarter second of it)."""
    return bool(audio.size) and bool(speech_spans(audio))
