"""Checkpoints (backend/checkpoints): finding, offering and converting Whisper models."""
