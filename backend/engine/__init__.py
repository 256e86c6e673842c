"""The engine: Whisper on torch and transformers. Features, encoder and decoder, the decoding
loops (one window, batched long-form, sequential long-form), word timing, precision and loading,
the VAD, the live policy, the inference worker and the model manager that owns the engine in use.
It may import ``backend.checkpoints`` and the shared modules, never ``backend.history`` or
``backend.web``. This file imports nothing, so that ``backend.engine.manager`` (and the worker's
and live policy's types) load without torch; ``backend.engine.engine`` is the one that imports it.
"""
