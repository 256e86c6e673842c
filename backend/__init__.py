"""Hush: private, offline speech-to-text. The HTTP server and the Whisper engine."""

__version__ = "0.1.0"
