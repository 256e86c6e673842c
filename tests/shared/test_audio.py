"""backend/audio.py: every format users send decodes to 16 kHz mono float32 of the right length."""

from __future__ import annotations

import io

import numpy as np
import pytest

from backend import audio
from tests.support.media import MEDIA_FORMATS, encode


@pytest.fixture(scope="module")
def true_seconds(speech_samples) -> float:
    samples, rate = speech_samples
    return len(samples) / rate


@pytest.mark.parametrize("kind", list(MEDIA_FORMATS))
def test_each_format_decodes_to_16k_mono_float32_of_the_true_length(media, kind, true_seconds):
    samples = audio.decode(media[kind])
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert audio.duration(samples) == pytest.approx(true_seconds, abs=0.1)
    assert 0.05 < np.abs(samples).max() <= 1.01  # speech came through, not silence or garbage


def test_decoding_a_file_object_equals_decoding_its_path(media):
    from_path = audio.decode(media["webm"])
    from_stream = audio.decode(io.BytesIO(media["webm"].read_bytes()))
    np.testing.assert_array_equal(from_path, from_stream)


def test_resampling_keeps_the_pitch(tmp_path):
    """A 440 Hz tone recorded at 44.1 kHz stereo is still 440 Hz after decoding (a wrong
    rate would move it)."""
    rate = 44_100
    t = np.arange(rate * 2) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    samples = audio.decode(encode(tone, rate, tmp_path / "tone.mp3", "mp3"))
    spectrum = np.abs(np.fft.rfft(samples))
    peak_hz = np.argmax(spectrum) * audio.SAMPLE_RATE / len(samples)
    assert peak_hz == pytest.approx(440, abs=3)


def test_video_without_audio_says_so(tmp_path, speech_samples):
    samples, rate = speech_samples
    path = encode(samples, rate, tmp_path / "silent.mp4", "mp4", video_only=True)
    with pytest.raises(audio.AudioError, match=r"no audio track \(found a video stream \(mpeg4\)\)"):
        audio.decode(path, "'silent.mp4'")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not an audio or video file"),
        (b"this is plain text, not a recording" * 20, "not an audio or video file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "not an audio or video file|no audio track"),
    ],
    ids=["empty", "text", "png-header"],
)
def test_non_audio_input_raises_a_readable_error(content, message):
    with pytest.raises(audio.AudioError, match=message):
        audio.decode(io.BytesIO(content), "the upload")


def test_a_recording_cut_off_mid_stream_keeps_what_was_recorded(media, true_seconds):
    data = media["webm"].read_bytes()
    samples = audio.decode(io.BytesIO(data[: len(data) * 2 // 3]))
    assert 0.3 * true_seconds < audio.duration(samples) < true_seconds


def test_decoding_stops_at_the_duration_limit(media):
    with pytest.raises(audio.TooLong, match="HUSH_MAX_DURATION_MINUTES"):
        audio.decode(media["mp3"], "'talk.mp3'", max_seconds=0.5)
    assert audio.duration(audio.decode(media["mp3"], max_seconds=60)) > 0.5


def test_samples_are_gathered_in_one_array_that_grows_when_the_length_was_unknown_or_short():
    pieces = [np.full(n, i, np.float32) for i, n in enumerate([7_000, 16_000, 40_000, 3])]
    samples = audio.Samples(1.0)  # room for 2 s: it grows twice
    for piece in pieces:
        samples.add(piece)
    np.testing.assert_array_equal(samples.array(), np.concatenate(pieces))


def test_room_a_file_overstated_is_not_kept():
    samples = audio.Samples(100.0)
    samples.add(np.ones(16_000, np.float32))
    gathered = samples.array()
    assert len(gathered) == 16_000 and gathered.base is None  # its own array, not a view of 101 s


def test_16_bit_samples_survive_pcm16_and_back_bit_for_bit():
    """What a 16-bit WAV decodes to goes through ``pcm16`` (WAV writer, cluster transport) and
    ``from_pcm16`` unchanged, the extremes included: nothing shrinks or shifts on the way."""
    pcm = np.array([-32768, -32767, -1, 0, 1, 12345, 32767], dtype="<i2")
    decoded = audio.decode(io.BytesIO(audio.wav_bytes(audio.from_pcm16(pcm))))
    assert decoded.dtype == np.float32
    np.testing.assert_array_equal(audio.pcm16(decoded), pcm)
    np.testing.assert_array_equal(audio.from_pcm16(audio.pcm16(decoded)), decoded)
