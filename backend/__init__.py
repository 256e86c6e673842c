"""Hush: private, offline speech-to-text. The HTTP server and the Whisper engine.

Four layers, each importing only those after it and the shared modules:
``backend.web`` → ``backend.history`` → ``backend.engine`` → ``backend.checkpoints`` → the shared
modules ``settings``, ``transcript``, ``audio`` and ``status`` (which import only each other).
``desktop`` and ``backend.__main__`` may import any of them. ``tests/test_architecture.py`` checks it.
"""

__version__ = "0.1.0"
