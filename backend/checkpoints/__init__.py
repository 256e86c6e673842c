"""Checkpoints: finding a Whisper model (folder, hub cache, download), the catalogue offered in
the app and the model last picked, and converting faster-whisper (CTranslate2) folders and
openai-whisper ``.pt`` files into transformers checkpoints, with their tokenizers. It may import
only the shared modules (``backend.settings``, ``backend.transcript``, ``backend.audio``,
``backend.status``); torch and transformers only inside ``convert`` and ``tokenizers``, which
``locate`` imports when a conversion is needed.
"""
