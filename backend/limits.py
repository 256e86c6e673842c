"""The upload size limit, enforced while the body streams in (413 before it is all read)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.errors import problem


class UploadLimit:
    """ASGI middleware: refuse a body over ``max_bytes`` from its ``Content-Length`` at
    once, or as soon as a chunked body grows past it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.message = (
            f"The upload is larger than the {max_bytes / 2**20:.0f} MB limit. "
            "Split the recording, or raise HUSH_MAX_UPLOAD_MB."
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await problem(413, self.message, {"Connection": "close"}, scope["path"])(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, self.message)
            return message

        await self.app(scope, receive_within_limit, send)
