"""The shared modules (backend/settings.py, audio.py, transcript.py, status.py)."""
