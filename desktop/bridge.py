"""What the page may ask of the window (pywebview's ``js_api``, ``window.pywebview.api`` in the page).

A web view has no download bar, so the page hands exports (transcripts, recordings) to
``save_file``, which asks where to put them with the system's own Save dialog; and a page
cannot learn a folder's path, so ``choose_model_folder`` asks for one for the models panel.
"""

from __future__ import annotations

import base64
import binascii
import logging
from pathlib import Path

from platformdirs import user_downloads_dir

log = logging.getLogger(__name__)


class Bridge:
    """Every public method and attribute is callable from the page: keep it to what the page needs."""

    def save_file(self, name: str, data: str) -> str | None:
        """Ask where to save ``data`` (base64) offering ``name``; the path written, or ``None`` if cancelled."""
        import webview

        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"save_file needs base64 data: {error}") from error
        folder = Path(user_downloads_dir())
        chosen = webview.windows[0].create_file_dialog(  # Hush has one window
            webview.FileDialog.SAVE,
            directory=str(folder if folder.is_dir() else Path.home()),
            save_filename=Path(name).name or "hush.txt",  # a name only: the page does not choose folders
        )
        if not chosen:
            return None
        path = Path(chosen[0] if isinstance(chosen, list | tuple) else chosen)
        path.write_bytes(content)
        log.info("saved %d bytes to %s", len(content), path)
        return str(path)

    def choose_model_folder(self) -> str | None:
        """Ask for a Whisper model folder on this computer; its path, or ``None`` if cancelled."""
        import webview

        chosen = webview.windows[0].create_file_dialog(webview.FileDialog.FOLDER, directory=str(Path.home()))
        if not chosen:
            return None
        return str(chosen[0] if isinstance(chosen, list | tuple) else chosen)
