"""Voices as numbers: Resemblyzer's GE2E speaker encoder, run with a few lines of torch.

The network (Wan et al., "Generalized end-to-end loss for speaker verification", 2018, as
trained by Resemblyzer) turns 1.6 s of speech into a 256-number "voice print": two stretches
of one voice point the same way (cosine near 1), two voices apart. It is a 3-layer LSTM of
256 units over 40 mel bands (25 ms windows, 10 ms hop) whose final state goes through a linear
layer, a ReLU and L2 normalisation. Resemblyzer's own package would bring librosa and
webrtcvad; the mel spectrogram is computed here exactly as librosa does (Slaney mel scale and
norm, periodic Hann window, power 2, centred frames padded with zeros), in torch, a batch of
windows at a time, so memory stays bounded whatever the recording's length.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from backend.audio import SAMPLE_RATE
from backend.engine import diarization, vad

N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
MELS = 40
#: Frames in one embedded window (1.6 s): what the network was trained on.
WINDOW_FRAMES = 160
WINDOW_SECONDS = WINDOW_FRAMES * HOP / SAMPLE_RATE
#: Windows through the network at a time: ~40 MB of intermediates (the LSTM keeps every step's gates).
BATCH = 32
#: The lengths (frames) a stretch of speech shorter than a window is repeated to.
SHORT_FRAMES = (80, 120)
#: Resemblyzer normalises each recording to this loudness (raising it only) before embedding.
TARGET_DBFS = -30.0


def mel_filters(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, mels: int = MELS) -> np.ndarray:
    """librosa's ``filters.mel`` with its defaults (Slaney's mel scale, area-normalised): ``(mels, n_fft // 2 + 1)``."""

    def to_mel(hz: np.ndarray) -> np.ndarray:
        linear = hz / (200.0 / 3)
        log_start = 1000.0 / (200.0 / 3)
        return np.where(hz >= 1000.0, log_start + np.log(np.maximum(hz, 1e-10) / 1000.0) / (math.log(6.4) / 27), linear)

    def to_hz(mel: np.ndarray) -> np.ndarray:
        log_start = 1000.0 / (200.0 / 3)
        return np.where(mel >= log_start, 1000.0 * np.exp(math.log(6.4) / 27 * (mel - log_start)), mel * 200.0 / 3)

    frequencies = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = to_hz(np.linspace(to_mel(np.array(0.0)), to_mel(np.array(sample_rate / 2)), mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - frequencies[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    return (weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


def loudness_gain(audio: np.ndarray) -> float:
    """The factor that brings ``audio`` to ``TARGET_DBFS`` (1 for audio already louder), as Resemblyzer's
    ``normalize_volume(increase_only=True)``: the network hears every recording at one level."""
    # a second at a time: a float64 copy of an hour's recording would be 460 MB
    energy = sum(float(np.dot(block, block)) for block in np.array_split(audio, max(1, len(audio) // SAMPLE_RATE)))
    rms = math.sqrt(energy / audio.size) if audio.size else 0.0
    if rms <= 0:
        return 1.0
    return max(1.0, 10 ** ((TARGET_DBFS - 20 * math.log10(rms)) / 20))


class VoiceEncoder:
    """The GE2E network with its weights (``model_state`` of Resemblyzer's ``pretrained.pt``)."""

    def __init__(self, weights: Path) -> None:
        state = torch.load(weights, map_location="cpu", weights_only=True)["model_state"]
        self.lstm = torch.nn.LSTM(MELS, 256, 3, batch_first=True).eval()
        self.linear = torch.nn.Linear(256, 256).eval()
        self.lstm.load_state_dict({k.removeprefix("lstm."): v for k, v in state.items() if k.startswith("lstm.")})
        self.linear.load_state_dict({"weight": state["linear.weight"], "bias": state["linear.bias"]})
        self.filters = torch.from_numpy(mel_filters())
        self.window = torch.hann_window(N_FFT, periodic=True)

    def mels(self, clips: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch, frames, 40)`` mel power of the 25 ms frames every 10 ms
        from the clip's start (uncentred: the caller hands each frame all its samples)."""
        spectrum = torch.stft(clips, N_FFT, HOP, window=self.window, center=False, return_complex=True)
        return (self.filters @ spectrum.abs().square()).transpose(1, 2)

    def embed_mels(self, mels: torch.Tensor) -> torch.Tensor:
        """``(batch, frames, 40)`` → ``(batch, 256)``, each of length 1."""
        _, (hidden, _) = self.lstm(mels)
        raw = self.linear(hidden[-1]).relu()
        return raw / raw.norm(dim=1, keepdim=True).clamp_min(1e-8)

    def embed(self, audio: np.ndarray, found: np.ndarray, between: Callable[[], object] = lambda: None) -> np.ndarray:
        """The voice print of each window ``(start, end)`` (seconds) of ``audio``, ``(len(found), 256)``.

        A full window's frames are the recording's as librosa frames it whole (frame ``f`` centred on
        sample ``f * HOP``, zeros beyond the ends): its spectrogram is the recording's, sliced. A
        shorter one (a short stretch of speech) is its own samples repeated to the next of
        ``SHORT_FRAMES`` (an LSTM step per frame: a 0.6 s "Yes." costs 0.8 s of frames, not 1.6 s).
        Windows of one length go through the network together; ``between`` runs before each batch
        (the cancel check)."""
        gain = loudness_gain(audio)
        samples = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
        frames = np.array([frames_for(end - start) for start, end in found], dtype=int)
        out = np.empty((len(found), 256), np.float32)
        # one thread, as Silero (vad.one_thread): an LSTM step is a parallel region of its own, and two
        # threads' barriers cost more than they share: 10 minutes took 4.0 s with two, 1.5 s with one
        # (side by side, other jobs busy on the machine)
        with torch.inference_mode(), vad.one_thread():
            for size in np.unique(frames):
                rows = np.flatnonzero(frames == size)
                length = (size - 1) * HOP + N_FFT
                for first in range(0, len(rows), BATCH):
                    between()
                    batch = rows[first : first + BATCH]
                    clips = torch.zeros(len(batch), length)
                    for row, (start, end) in enumerate(found[batch]):
                        frame = round(start * SAMPLE_RATE / HOP)
                        if size == WINDOW_FRAMES:
                            begin = frame * HOP - N_FFT // 2
                            low, high = max(begin, 0), min(begin + length, len(samples))
                            if high > low:
                                clips[row, low - begin : high - begin] = samples[low:high]
                        else:
                            speech = samples[frame * HOP : round(end * SAMPLE_RATE)]
                            if len(speech):
                                clips[row] = speech.repeat(-(-length // len(speech)))[:length]
                    out[batch] = self.embed_mels(self.mels(clips * gain)).numpy()
        return out


def frames_for(seconds: float) -> int:
    """The frames a window of ``seconds`` is embedded with: a full window's 160, a shorter one's the next
    of ``SHORT_FRAMES`` that holds it."""
    needed = round(seconds * SAMPLE_RATE / HOP)
    return next((f for f in SHORT_FRAMES if needed <= f), WINDOW_FRAMES)


def speaker_turns(
    encoder: VoiceEncoder,
    audio: np.ndarray,
    count: int | None,
    least: int,
    most: int,
    between: Callable[[], object] = lambda: None,
) -> list[diarization.Turn]:
    """Who speaks when in ``audio``: Silero's speech, voice prints of windows over it, clustered into
    ``count`` speakers (or as many as the voices show, from ``least`` to ``most``), as turns."""
    spans = vad.speech_spans(audio)
    found = diarization.windows(spans)
    labels = diarization.cluster(encoder.embed(audio, found, between), count, least, most)
    return diarization.turns(found, labels, spans)
