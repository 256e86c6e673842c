"""``create_app()``: the FastAPI application with its routers, limits, errors and the UI."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from backend import __version__, catalog, errors
from backend.engine import Engine
from backend.limits import UploadLimit
from backend.routers import health, models, openai, transcriptions
from backend.settings import Settings


def ui_folder() -> Path:
    """The recorder page's files, next to the package or inside a PyInstaller bundle."""
    root = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    return root / "ui"


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app; the engine starts loading its model when the app starts up."""
    settings = settings or Settings()
    engine = engine or Engine(
        catalog.chosen_model(settings), settings.device, settings.precision, settings.hub_endpoint
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine.start()
        yield
        app.state.engine.close()  # the one in use now: the user may have switched models

    app = FastAPI(
        title="Hush",
        version=__version__,
        summary="Private, offline speech-to-text with Whisper.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.downloads = catalog.Downloads(settings.hub_endpoint)
    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(transcriptions.router)
    app.include_router(openai.router)
    app.include_router(models.router)
    if ui_folder().is_dir():
        app.mount("/", StaticFiles(directory=ui_folder(), html=True), name="ui")
    return app
