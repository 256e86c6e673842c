"""``create_app()``: the FastAPI application with its routers, limits, errors and the UI."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from backend import __version__
from backend.checkpoints import catalog
from backend.engine.manager import ModelManager
from backend.history.corrections import Corrections
from backend.history.jobs import Jobs
from backend.history.speakers import Speakers
from backend.history.store import Store
from backend.settings import Settings
from backend.web import errors
from backend.web.dependencies import Desktop
from backend.web.limits import UploadLimit
from backend.web.routers import desktop as desktop_routes
from backend.web.routers import engines, health, live, models, openai, speakers, transcriptions
from backend.web.security import Guard
from backend.web.served_by import ServedBy

if TYPE_CHECKING:
    from backend.engine.remote import ChunkedEngine


def ui_folder() -> Path:
    """The recorder page's files, next to the package or inside a PyInstaller bundle."""
    root = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2]))
    return root / "ui"


class FreshStaticFiles(StaticFiles):
    """The page's files, revalidated on every load so an upgraded app never runs a stale ``app.js``."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def create_app(
    settings: Settings | None = None, desktop: Desktop | None = None, engine: ChunkedEngine | None = None
) -> FastAPI:
    """Build the app; when it starts up, the model starts loading in the background and jobs a
    previous run left unfinished are marked interrupted. ``desktop``: the window app's controls
    (``desktop/controls.py``), for ``/api/desktop``; ``engine``: the engine for the server's whole life
    (a cluster's replicas, ``backend/cluster``) instead of the chosen model or servers."""
    settings = settings or Settings()
    manager = ModelManager(settings, engine)
    store = Store(settings.database, settings.recordings_dir)
    jobs = Jobs(store, manager, settings.max_duration_minutes * 60)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs.open()
        manager.start()
        yield
        shut_down(app)

    app = FastAPI(
        title="Hush",
        version=__version__,
        summary="Private, offline speech-to-text with Whisper.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.models = manager
    app.state.jobs = jobs
    app.state.corrections = Corrections(store, manager, settings.max_duration_minutes * 60)
    app.state.speakers = Speakers(store, manager, settings.max_duration_minutes * 60)
    app.state.downloads = catalog.Downloads(settings.hub_endpoint)
    app.state.desktop = desktop
    app.add_middleware(ServedBy)
    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes, stall_seconds=settings.upload_stall_seconds)
    errors.install(app)
    # Added last, so it runs first: nothing else sees a request without the token.
    app.add_middleware(
        Guard, token=settings.token, allowed_origins=settings.allowed_origins, allow_remote=settings.allow_remote
    )
    app.include_router(health.router)
    app.include_router(transcriptions.router)
    app.include_router(speakers.router)
    app.include_router(openai.router)
    app.include_router(models.router)
    app.include_router(engines.router)
    app.include_router(live.router)
    app.include_router(desktop_routes.router)
    if ui_folder().is_dir():
        app.mount("/", FreshStaticFiles(directory=ui_folder(), html=True), name="ui")
    return app


def shut_down(app: FastAPI) -> None:
    """Stop the running job at its next decoding step and drop the queue, both kept as ``interrupted``
    (retryable); idempotent. Called before the server waits for open requests, so that a request
    waiting on a transcription is answered at once instead of holding the process."""
    app.state.jobs.close()
    app.state.models.close()
