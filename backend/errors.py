"""How failures become HTTP problems: ``{"detail": "..."}`` a person can act on, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.audio import AudioError
from backend.engine import InvalidOptions, ModelNotReady, ModelState

log = logging.getLogger(__name__)

#: Seconds a client should wait before asking again, by model state.
RETRY_AFTER = {ModelState.LOADING: 5, ModelState.MISSING: 60, ModelState.ERROR: 60}


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def describe_validation(error: RequestValidationError) -> str:
    """``language: Input should be 'transcribe' or 'translate'`` instead of a list of dicts."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path"))
        message = item.get("msg", "invalid value")
        parts.append(f"{where}: {message}" if where else message)
    return "Invalid request: " + "; ".join(parts) + "."


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into problems."""

    @app.exception_handler(AudioError)
    async def bad_audio(_: Request, error: AudioError) -> JSONResponse:
        return problem(400, str(error))

    @app.exception_handler(InvalidOptions)
    async def bad_options(_: Request, error: InvalidOptions) -> JSONResponse:
        return problem(422, str(error))

    @app.exception_handler(ModelNotReady)
    async def not_ready(_: Request, error: ModelNotReady) -> JSONResponse:
        status = error.status
        retry = RETRY_AFTER.get(status.state, 5)
        return problem(503, status.detail, {"Retry-After": str(retry)})

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, error: RequestValidationError) -> JSONResponse:
        return problem(422, describe_validation(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(error.status_code, str(error.detail), getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, f"Hush hit an unexpected error ({type(error).__name__}). The details are in the log.")
