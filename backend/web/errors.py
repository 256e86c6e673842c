"""How failures become HTTP problems: ``{"detail": "..."}`` a person can act on, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.audio import AudioError, TooLong
from backend.history.jobs import NotActive
from backend.status import ModelNotReady, ModelState, Unchangeable
from backend.transcript import Cancelled, InvalidOptions

log = logging.getLogger(__name__)

#: Seconds a client should wait before asking again, by model state.
RETRY_AFTER = {ModelState.LOADING: 5, ModelState.MISSING: 60, ModelState.ERROR: 60}


#: OpenAI's error ``type`` by status, for clients of the ``/v1`` API.
OPENAI_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    408: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
}


def problem(status: int, detail: str, headers: dict[str, str] | None = None, path: str = "") -> JSONResponse:
    """``{"detail": ...}``; under ``/v1`` also OpenAI's ``{"error": {"message", "type"}}`` so its SDKs show it."""
    body: dict = {"detail": detail}
    if path.startswith("/v1/"):
        body["error"] = {"message": detail, "type": OPENAI_ERROR_TYPES.get(status, "server_error"), "code": status}
    return JSONResponse(body, status_code=status, headers=headers)


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
    async def bad_audio(request: Request, error: AudioError) -> JSONResponse:
        return problem(400, str(error), path=request.url.path)

    @app.exception_handler(TooLong)
    async def too_long(request: Request, error: TooLong) -> JSONResponse:
        return problem(413, str(error), path=request.url.path)

    @app.exception_handler(NotActive)
    async def not_active(request: Request, error: NotActive) -> JSONResponse:
        return problem(409, str(error), path=request.url.path)

    @app.exception_handler(InvalidOptions)
    async def bad_options(request: Request, error: InvalidOptions) -> JSONResponse:
        return problem(422, str(error), path=request.url.path)

    @app.exception_handler(ModelNotReady)
    async def not_ready(request: Request, error: ModelNotReady) -> JSONResponse:
        retry = RETRY_AFTER.get(error.status.state, 5)
        return problem(503, error.status.detail, {"Retry-After": str(retry)}, request.url.path)

    @app.exception_handler(Unchangeable)
    async def unchangeable(request: Request, error: Unchangeable) -> JSONResponse:
        return problem(409, str(error), path=request.url.path)

    @app.exception_handler(Cancelled)
    async def cancelled(request: Request, error: Cancelled) -> JSONResponse:
        return problem(409, str(error), path=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return problem(422, describe_validation(error), path=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(error.status_code, str(error.detail), getattr(error, "headers", None), request.url.path)

    app.add_middleware(CatchUnexpected)


class CatchUnexpected:
    """Answer any unhandled exception with a 500 problem and log the traceback.

    Starlette's own handler for ``Exception`` re-raises after answering, which makes
    the server drop the client's keep-alive connection; this keeps it open.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            detail = f"Hush hit an unexpected error ({type(error).__name__}). The details are in the log."
            await problem(500, detail, path=scope.get("path", ""))(scope, receive, send)
