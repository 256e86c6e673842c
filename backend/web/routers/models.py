"""``/api/models``: the catalogue, downloads with progress, switching and deleting models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from starlette.concurrency import run_in_threadpool

from backend.checkpoints import catalog, locate
from backend.checkpoints.catalog import Download, Downloads
from backend.web.dependencies import ModelsDep
from backend.web.schemas import DownloadInfo, LocalModel, ModelEntry, ModelInfo, ModelList, Problem

router = APIRouter(prefix="/api/models", tags=["models"])


def get_downloads(request: Request) -> Downloads:
    return request.app.state.downloads


DownloadsDep = Annotated[Downloads, Depends(get_downloads)]


def info(download: Download | None) -> DownloadInfo | None:
    if download is None:
        return None
    return DownloadInfo(
        model_id=download.model_id,
        state=download.state,
        bytes_done=download.bytes_done,
        bytes_total=download.bytes_total,
        percent=download.percent,
        bytes_per_second=round(download.bytes_per_second),
        error=download.error,
    )


def entries(active: str, downloads: Downloads) -> list[ModelEntry]:
    """The catalogue, the models found on this computer, and any other in use or downloading."""

    def entry(model_id: str, name: str, installed: bool, **details) -> ModelEntry:
        download = info(downloads.get(model_id))
        return ModelEntry(
            id=model_id, name=name, installed=installed, active=model_id == active, download=download, **details
        )

    listed = [
        entry(e.id, e.name, locate.cached(e.id) is not None, size_bytes=e.size_bytes, multilingual=e.multilingual,
              note=e.note)
        for e in catalog.CATALOGUE
    ]  # fmt: skip
    listed += [
        entry(f.id, f.name, True, size_bytes=f.size_bytes, multilingual=f.multilingual, note=f.note, found=True)
        for f in catalog.found_on_this_computer()
    ]
    known = {e.id for e in listed}
    others = [active] + [d.model_id for d in downloads.all()]  # a folder, or a hub id typed in the app
    for model_id in dict.fromkeys(m for m in others if m not in known):
        listed.insert(0, entry(model_id, model_id, locate.cached(model_id) is not None, size_bytes=None))
    return listed


@router.get("", response_model=ModelList, summary="Models to choose from, installed or not")
async def list_models(manager: ModelsDep, downloads: DownloadsDep) -> ModelList:
    active = manager.model_id
    listed = await run_in_threadpool(entries, active, downloads)
    return ModelList(active=active, models=listed)


@router.post(
    "/{model_id:path}/download",
    response_model=DownloadInfo,
    status_code=status.HTTP_202_ACCEPTED,
    responses={422: {"model": Problem}},
    summary="Start downloading a model (resumes a partial download)",
)
def start_download(model_id: str, downloads: DownloadsDep) -> DownloadInfo:
    if locate.is_folder(model_id):
        raise HTTPException(
            422, f"'{model_id}' is a folder, not a Hugging Face model id: there is nothing to download."
        )
    return info(downloads.start(model_id))


@router.get(
    "/{model_id:path}/download",
    response_model=DownloadInfo,
    responses={404: {"model": Problem}},
    summary="Progress of a model's download (poll it)",
)
def download_progress(model_id: str, downloads: DownloadsDep) -> DownloadInfo:
    download = downloads.get(model_id)
    if download is None:
        raise HTTPException(404, f"No download of '{model_id}' was started.")
    return info(download)


@router.post(
    "/{model_id:path}/activate",
    response_model=ModelInfo,
    status_code=status.HTTP_202_ACCEPTED,
    responses={409: {"model": Problem}},
    summary="Switch to another model without restarting (it loads in the background)",
)
def activate(model_id: str, manager: ModelsDep) -> ModelInfo:
    if model_id != manager.model_id and not locate.is_folder(model_id) and locate.cached(model_id) is None:
        raise HTTPException(409, f"'{model_id}' is not downloaded yet. Download it first.")
    current = manager.switch(model_id)  # the old model finishes what was queued on it
    return ModelInfo(id=current.id, state=current.state, detail=current.detail)


@router.post(
    "/local",
    response_model=ModelInfo,
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"model": Problem}, 422: {"model": Problem}},
    summary="Use a model already on this computer (a folder or a .pt file); it loads in the background",
)
def use_local(body: LocalModel, manager: ModelsDep) -> ModelInfo:
    path = Path(body.path).expanduser()
    if not path.exists():
        raise HTTPException(404, f"There is no file or folder at {path}. Check the path and try again.")
    if locate.cached(str(path)) is None:
        raise HTTPException(
            422,
            f"{path} is not a Whisper model Hush can read: choose a transformers folder (with config.json), "
            "a faster-whisper folder (with model.bin) or an openai-whisper .pt file.",
        )
    current = manager.switch(str(path.resolve()))  # converted, if need be, while it loads: /api/health follows
    return ModelInfo(id=current.id, state=current.state, detail=current.detail)


@router.delete(
    "/{model_id:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"model": Problem}, 409: {"model": Problem}},
    summary="Delete a downloaded model",
)
def delete_model(model_id: str, manager: ModelsDep, downloads: DownloadsDep) -> Response:
    if model_id == manager.model_id:
        raise HTTPException(409, f"'{model_id}' is the model in use. Switch to another one before deleting it.")
    if locate.is_folder(model_id):
        raise HTTPException(409, f"'{model_id}' is your own folder; Hush only deletes models it downloaded.")
    if not locate.delete(model_id):
        raise HTTPException(404, f"'{model_id}' is not downloaded.")
    downloads.forget(model_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
