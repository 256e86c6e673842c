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
from backend.jobs import Jobs
from backend.limits import UploadLimit
from backend.routers import health, models, openai, transcriptions
from backend.security import Guard
from backend.settings import Settings
from backend.store import Store


def ui_folder() -> Path:
    """The recorder page's files, next to the package or inside a PyInstaller bundle."""
    root = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    return root / "ui"


class FreshStaticFiles(StaticFiles):
    """The page's files, revalidated on every load so an upgraded app never runs a stale ``app.js``."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app; the engine starts loading its model, and jobs a previous run left
    unfinished are marked interrupted, when the app starts up."""
    settings = settings or Settings()
    engine = engine or Engine(
        catalog.chosen_model(settings), settings.device, settings.precision, settings.hub_endpoint
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.jobs.open()
        app.state.engine.start()
        yield
        app.state.jobs.close()
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
    app.state.jobs = Jobs(
        Store(settings.database, settings.recordings_dir), lambda: app.state.engine, settings.max_duration_minutes * 60
    )
    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes, stall_seconds=settings.upload_stall_seconds)
    errors.install(app)
    # Added last, so it runs first: nothing else sees a request without the token.
    app.add_middleware(
        Guard, token=settings.token, allowed_origins=settings.allowed_origins, allow_remote=settings.allow_remote
    )
    app.include_router(health.router)
    app.include_router(transcriptions.router)
    app.include_router(openai.router)
    app.include_router(models.router)
    if ui_folder().is_dir():
        app.mount("/", FreshStaticFiles(directory=ui_folder(), html=True), name="ui")
    return app
