"""Where speech is: Silero VAD, the voice activity detector faster-whisper and WhisperX use.

The ``silero-vad`` package ships its model (weights included) and runs on torch, so it
adds no runtime. Its own runner calls the network once per 32 ms frame from Python: ten
minutes are 18,750 calls, each paying Python's and torch's overhead for a tiny computation.
The network is a few small convolutions over each frame (plus 64 samples of the frame before)
and one LSTM cell carried from frame to frame, so here the convolutions run over all frames at
once and the LSTM in one call over the sequence, from the package's own weights file. The
package's ``get_speech_timestamps_from_probs`` turns the probabilities into stretches of
speech, as its ``get_speech_timestamps`` does.

Live transcription asks whether new audio holds speech (silence costs no model pass);
long files are cut at the pauses it finds (``backend/engine/decoding.py``). torch is imported on
first use, so importing this module stays cheap for the web layer.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import numpy as np

from backend.audio import SAMPLE_RATE

FRAME = 512  # samples per probability: 32 ms
CONTEXT = 64  # samples of the frame before that each frame sees
#: Frames through the network at a time (33 s): ~15 MB of intermediates, whatever the length.
BLOCK_FRAMES = 1024

#: How the long form looks for pauses to cut at: faster-whisper's settings for its batched
#: pipeline (pauses from 160 ms, 0.4 s of padding around speech so no word's edge is cut).
LONG_FORM_SILENCE = 0.16
LONG_FORM_PAD = 0.4

_network: Any = None
_loading = threading.Lock()
#: The last recording asked about (a weak reference: never kept alive for this) and its probabilities.
_last: tuple[weakref.ref | None, np.ndarray] = (None, np.zeros(0, np.float32))


def speech_spans(
    audio: np.ndarray,
    threshold: float = 0.5,
    min_speech: float = 0.25,
    min_silence: float = 0.1,
    max_speech: float = float("inf"),
    pad: float = 0.03,
) -> list[tuple[float, float]]:
    """``(start, end)`` seconds of each stretch of speech in 16 kHz mono ``audio``.

    Stretches longer than ``max_speech`` are split at their longest pause (or cut hard
    where there is none); each is widened by ``pad`` on both sides, as Silero does."""
    if not audio.size:
        return []
    probabilities = speech_probabilities(audio)
    from_probs = silero("get_speech_timestamps_from_probs")
    spans = from_probs(
        probabilities.tolist(),
        sampling_rate=SAMPLE_RATE,
        threshold=threshold,
        min_speech_duration_ms=int(min_speech * 1000),
        min_silence_duration_ms=int(min_silence * 1000),
        max_speech_duration_s=max_speech,
        speech_pad_ms=int(pad * 1000),
        audio_length_samples=len(audio),
    )
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in spans]


def speech_probabilities(audio: np.ndarray) -> np.ndarray:
    """Silero's speech probability for each 32 ms frame of ``audio`` (the last one zero-padded),
    a block of frames at a time with the LSTM's state carried over: a few MB whatever the length.
    The last recording's are kept (while it is alive): long audio is cut at its pauses and then its
    speakers are labelled, and both ask for the same recording's speech."""
    global _last
    remembered, probabilities = _last
    if remembered is not None and remembered() is audio:
        return probabilities
    probabilities = _probabilities(audio)
    _last = weakref.ref(audio), probabilities
    return probabilities


def _probabilities(audio: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    weights, lstm = network()
    samples = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    count = -(-len(samples) // FRAME)
    out = np.empty(count, np.float32)
    state = None
    with torch.inference_mode(), one_thread():
        for first in range(0, count, BLOCK_FRAMES):
            last = min(first + BLOCK_FRAMES, count)
            begin = first * FRAME - CONTEXT  # each frame sees the 64 samples before it (zeros at the start)
            piece = samples[max(begin, 0) : last * FRAME]
            piece = F.pad(piece, (max(-begin, 0), CONTEXT + (last - first) * FRAME - len(piece) - max(-begin, 0)))
            block = piece.unfold(0, CONTEXT + FRAME, FRAME)
            hidden, state = lstm(encode(block, weights).unsqueeze(0), state)
            logits = F.conv1d(hidden[0].relu().unsqueeze(-1), weights["final_conv.weight"], weights["final_conv.bias"])
            out[first:last] = logits.sigmoid().reshape(-1).numpy()
    return out


@contextmanager
def one_thread() -> Iterator[None]:
    """Silero on one thread, torch's team as it was afterwards. torch's LSTM runs each step (one frame
    through a 128-unit cell) as a parallel region of its own, and the small convolutions are not
    much better: with two threads the barrier after each costs more than the work. Ten minutes of
    audio took 6-13 s with two threads and 0.9-1.6 s with one (measured side by side, while other
    jobs kept the machine busy); faster-whisper runs its Silero (ONNX) on one thread too."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def encode(block: Any, weights: dict[str, Any]) -> Any:
    """The per-frame part of Silero's network: ``(frames, 576)`` samples → ``(frames, 128)`` features."""
    import torch.nn.functional as F

    x = F.pad(block, (0, CONTEXT), mode="reflect").unsqueeze(1)
    x = F.conv1d(x, weights["stft_conv.weight"], stride=128)
    half = x.shape[1] // 2
    x = (x[:, :half] ** 2 + x[:, half:] ** 2).sqrt()
    x = F.conv1d(x, weights["conv1.weight"], weights["conv1.bias"], padding=1).relu()
    x = F.conv1d(x, weights["conv2.weight"], weights["conv2.bias"], stride=2, padding=1).relu()
    x = F.conv1d(x, weights["conv3.weight"], weights["conv3.bias"], stride=2, padding=1).relu()
    return F.conv1d(x, weights["conv4.weight"], weights["conv4.bias"], padding=1).relu().squeeze(-1)


def network() -> tuple[dict[str, Any], Any]:
    """Silero's weights and its LSTM cell as a ``torch.nn.LSTM``, loaded once."""
    global _network
    with _loading:
        if _network is None:
            import torch
            from safetensors.torch import load_file

            silero("load_silero_vad")  # the package, imported with torch's thread count kept
            weights = load_file(str(resources.files("silero_vad.data") / "silero_vad_16k.safetensors"))
            lstm = torch.nn.LSTM(128, 128, batch_first=True).eval()
            with torch.no_grad():
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(lstm, f"{name}_l0").copy_(weights[f"lstm_cell.{name}"])
            _network = weights, lstm
        return _network


def silero(name: str) -> Any:
    """``silero_vad.<name>``. Importing the package sets torch's thread count to 1 for the whole
    process (silero_vad/model.py), which would leave Whisper on one core: it is put back."""
    import torch

    threads = torch.get_num_threads()
    try:
        import silero_vad
    finally:
        torch.set_num_threads(threads)
    return getattr(silero_vad, name)


def windows(audio: np.ndarray, longest: float) -> list[tuple[int, int]]:
    """The long form's windows: the recording's speech packed into stretches (samples) of at most
    ``longest`` seconds that each end in a pause. The remote engine cuts its chunks between them,
    so that a Hush server given a chunk finds the windows this computer would have decoded."""
    spans = speech_spans(audio, min_silence=LONG_FORM_SILENCE, max_speech=longest, pad=LONG_FORM_PAD)
    return pack(spans, longest, len(audio))


def pack(spans: list[tuple[float, float]], longest: float, length: int) -> list[tuple[int, int]]:
    """Stretches of speech (seconds) joined in order into ``(start, end)`` samples of at most
    ``longest`` seconds; each ends with its last stretch, so every cut lies in a pause."""
    packed: list[tuple[int, int]] = []
    for start, end in spans:
        first, last = max(0, round(start * SAMPLE_RATE)), min(length, round(end * SAMPLE_RATE))
        if packed and last - packed[-1][0] <= longest * SAMPLE_RATE:
            packed[-1] = (packed[-1][0], last)
        elif last > first:
            packed.append((first, last))
    return packed
