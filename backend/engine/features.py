"""Whisper's log-mel spectrogram, computed block by block so memory stays flat.

``WhisperFeatureExtractor`` runs one STFT over the whole recording: for ten minutes
that is several hundred MB of complex intermediates, for an hour a few GB. The frames
of an STFT are independent, so computing them a block at a time gives the same
numbers (the one global step, clamping to 8 decades below the loudest value, runs on
the finished spectrogram) with a peak of a few MB beyond the result itself.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers import WhisperFeatureExtractor

BLOCK_FRAMES = 3000  # one 30 s window of 10 ms frames per STFT call


def log_mel(audio: np.ndarray, extractor: WhisperFeatureExtractor) -> torch.Tensor:
    """Features of shape ``(1, n_mels, frames)`` equal to ``extractor(audio)``'s.

    Audio shorter than one window is zero-padded to it, as the extractor does; longer
    audio keeps its length (``len(audio) // hop`` frames) for long-form generation.
    """
    hop, n_fft = extractor.hop_length, extractor.n_fft
    audio = audio.astype(np.float32, copy=False)
    if len(audio) < extractor.n_samples:
        audio = np.pad(audio, (0, extractor.n_samples - len(audio)))
    if extractor.dither:
        audio = audio + extractor.dither * np.random.randn(len(audio)).astype(np.float32)
    frames = len(audio) // hop
    padded = torch.from_numpy(np.pad(audio, n_fft // 2, mode="reflect"))
    window = torch.hann_window(n_fft)
    filters = torch.from_numpy(extractor.mel_filters).to(torch.float32).T
    spectrogram = torch.empty(filters.shape[0], frames)
    for start in range(0, frames, BLOCK_FRAMES):
        stop = min(start + BLOCK_FRAMES, frames)
        block = padded[start * hop : (stop - 1) * hop + n_fft]
        stft = torch.stft(block, n_fft, hop, window=window, center=False, return_complex=True)
        spectrogram[:, start:stop] = (filters @ (stft.abs() ** 2)).clamp_(min=1e-10).log10_()
    spectrogram = torch.maximum(spectrogram, spectrogram.max() - 8.0)
    return ((spectrogram + 4.0) / 4.0).unsqueeze(0)
