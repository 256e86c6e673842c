"""backend/engine/vad.py: Silero's network run over all frames at once finds where speech is."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backend.audio import SAMPLE_RATE
from backend.engine import vad
from tests.support.helpers import ROOT


def frame_by_frame(audio: np.ndarray) -> np.ndarray:
    """Silero's network as its package runs it: one 32 ms frame (and 64 samples before it) at a
    time, the LSTM cell's state carried from frame to frame (tinygrad_model.py's loop)."""
    weights, lstm = vad.network()
    cell = torch.nn.LSTMCell(128, 128)
    cell.load_state_dict({name.removesuffix("_l0"): value for name, value in lstm.state_dict().items()})
    samples = F.pad(torch.from_numpy(audio), (vad.CONTEXT, -len(audio) % vad.FRAME))
    state, out = None, []
    with torch.inference_mode():
        for start in range(vad.CONTEXT, len(samples), vad.FRAME):
            features = vad.encode(samples[start - vad.CONTEXT : start + vad.FRAME][None], weights)
            state = cell(features, state)
            logit = F.conv1d(state[0].relu()[..., None], weights["final_conv.weight"], weights["final_conv.bias"])
            out.append(float(logit.sigmoid()))
    return np.array(out)


@pytest.fixture(scope="module")
def spoken(hear) -> tuple[np.ndarray, float, float]:
    """Two seconds of silence, a sentence, two seconds of silence: the audio and where the speech is."""
    speech = hear("Please remember to water the plants before dinner.")
    loud = np.flatnonzero(np.abs(speech) > 0.01)
    silence = np.zeros(2 * SAMPLE_RATE, np.float32)
    audio = np.concatenate([silence, speech, silence])
    return audio, 2 + loud[0] / SAMPLE_RATE, 2 + loud[-1] / SAMPLE_RATE


def test_all_frames_at_once_give_the_frame_by_frame_probabilities(spoken):
    audio = spoken[0]
    np.testing.assert_allclose(vad.speech_probabilities(audio), frame_by_frame(audio), atol=1e-4)


def test_the_speech_is_found_between_the_silences(spoken):
    audio, start, end = spoken
    spans = vad.speech_spans(audio)
    assert spans and spans[0][0] == pytest.approx(start, abs=0.3) and spans[-1][1] == pytest.approx(end, abs=0.3)
    assert vad.speech_spans(np.zeros(3 * SAMPLE_RATE, np.float32)) == []


def test_long_speech_is_split_at_its_longest(spoken):
    audio = np.tile(spoken[0], 5)  # 5 sentences with 4 s pauses: ~28 s
    spans = vad.speech_spans(audio, max_speech=10.0)
    assert len(spans) >= 3 and all(end - start <= 10.0 for start, end in spans)


def test_loading_silero_leaves_torchs_thread_count_alone():
    """Importing silero_vad sets torch's thread count to 1 for the whole process (Whisper would
    then run on one core): a fresh process keeps its count through the first VAD call."""
    code = (
        "import torch; torch.set_num_threads(2); from backend.engine import vad; vad.speech_spans(__import__('numpy')"
        ".zeros(16000, 'float32')); print(torch.get_num_threads())"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "2", result.stderr


def test_an_empty_or_short_recording_has_no_speech():
    assert vad.speech_spans(np.zeros(0, np.float32)) == []
    assert vad.speech_spans(np.zeros(100, np.float32)) == []
