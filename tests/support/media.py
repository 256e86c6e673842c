"""Test audio in the containers and codecs people send, written with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

#: container, audio codec, sample rate, channels, video codec: what browsers and users send.
MEDIA_FORMATS = {
    "webm": ("webm", "libopus", 48_000, 1, None),
    "ogg": ("ogg", "libopus", 48_000, 2, None),
    "wav": ("wav", "pcm_s16le", 22_050, 1, None),
    "mp3": ("mp3", "libmp3lame", 44_100, 2, None),
    "m4a": ("ipod", "aac", 44_100, 2, None),
    "flac": ("flac", "flac", 32_000, 1, None),
    "mp4": ("mp4", "aac", 48_000, 2, "mpeg4"),
    "mkv": ("matroska", "libopus", 48_000, 2, "libvpx"),
}


def encode(samples: np.ndarray, rate: int, path: Path, kind: str, video_only: bool = False) -> Path:
    """Write mono float ``samples`` at ``rate`` as ``kind`` (see MEDIA_FORMATS) with PyAV.

    The audio is resampled by FFmpeg to the format's own rate and channel count, so
    decoding it back exercises the real resampling and down-mixing paths. Videos get
    a small moving picture; ``video_only`` leaves the audio track out.
    """
    container_format, codec, out_rate, channels, video_codec = MEDIA_FORMATS[kind]
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w", format=container_format) as container:
        video = None
        if video_codec:
            video = container.add_stream(video_codec, rate=10)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = None if video_only else container.add_stream(codec, rate=out_rate, layout=layout)
        if audio is not None:
            resampler = av.AudioResampler(format=audio.codec_context.format or "fltp", layout=layout, rate=out_rate)
            block = 1024
            for start in range(0, len(samples), block):
                chunk = samples[start : start + block].astype(np.float32)
                frame = av.AudioFrame.from_ndarray(chunk[np.newaxis, :], format="flt", layout="mono")
                frame.sample_rate, frame.pts = rate, start
                for resampled in resampler.resample(frame):
                    container.mux(audio.encode(resampled))
            for resampled in resampler.resample(None):
                container.mux(audio.encode(resampled))
            container.mux(audio.encode(None))
        if video is not None:
            for i in range(max(1, int(len(samples) / rate * 10))):
                image = np.full((48, 64, 3), (i * 7) % 255, dtype=np.uint8)
                container.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            container.mux(video.encode(None))
    return path
