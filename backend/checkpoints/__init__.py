"""Checkpoints: finding a Whisper model (folder, hub cache, download), the catalogue offered in
the app and the model last picked, and converting faster-whisper (CTranslate2) folders and
openai-whisper ``.pt`` files into transformers checkpoints, with their tokenizers. It may import
only the shared modules (``backend.settings``, ``backend.transcript``, ``backend.audio``,
``backend.status``). Only ``convert`` and ``tokenizers`` import torch and transformers at their
top; ``locate`` imports ``convert`` when a model needs converting, so the web layer can list and
download models without torch.
"""
