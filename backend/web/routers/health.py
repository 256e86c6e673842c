"""``GET /api/health``: is the server up, and what is the model doing."""

from fastapi import APIRouter, Request

from backend import __version__
from backend.web.dependencies import ModelsDep, SettingsDep
from backend.web.schemas import Health, ModelInfo, WorkerInfo

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health", response_model=Health, summary="Server and model state")
def health(models: ModelsDep, settings: SettingsDep, request: Request) -> Health:
    status = models.status
    return Health(
        model=ModelInfo(id=status.id, state=status.state, detail=status.detail, languages=models.languages),
        version=__version__,
        max_upload_bytes=settings.max_upload_bytes,
        engine=models.describe(),
        remote=models.engines.remote,
        desktop=request.app.state.desktop is not None,
        workers=[WorkerInfo(id=w.id, state=w.state, detail=w.detail) for w in status.workers],
    )
