"""``GET /api/health``: is the server up, and what is the model doing."""

from fastapi import APIRouter

from backend import __version__
from backend.dependencies import EngineDep, SettingsDep
from backend.engine import ModelState
from backend.schemas import Health, ModelInfo

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health", response_model=Health, summary="Server and model state")
def health(engine: EngineDep, settings: SettingsDep) -> Health:
    status = engine.status
    languages = engine.languages if status.state is ModelState.READY else []
    return Health(
        model=ModelInfo(id=status.id, state=status.state, detail=status.detail, languages=languages),
        version=__version__,
        max_upload_bytes=settings.max_upload_bytes,
    )
