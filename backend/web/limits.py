"""Upload limits enforced while the body streams in: size (413 before it is all read) and stalls (408)."""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.web.errors import problem

#: Before a 413 goes out, the rest of the body is read and thrown away, this much at most:
#: closing a socket with unread data resets the connection, and the client (a browser too)
#: then loses the answer. A body past these bounds gets the 413 and a closed connection.
DRAIN_BYTES = 64 * 2**20
DRAIN_SECONDS = 10.0


class UploadLimit:
    """ASGI middleware: refuse a body over ``max_bytes`` from its ``Content-Length`` at
    once, or as soon as a chunked body grows past it; drop a body that sends nothing for
    ``stall_seconds`` (a stalled or malicious client must not hold a request open forever)."""

    def __init__(self, app: ASGIApp, max_bytes: int, stall_seconds: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.stall_seconds = stall_seconds
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
            headers = {} if await drain(receive) else {"Connection": "close"}
            await problem(413, self.message, headers, scope["path"])(scope, receive, send)
            return
        received = 0
        complete = False

        async def receive_within_limit() -> Message:
            nonlocal received, complete
            if complete:  # after the body only a disconnect can come, whenever it comes
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.stall_seconds)
            except TimeoutError:
                raise HTTPException(
                    408, f"The upload stalled: nothing arrived for {self.stall_seconds:.0f} s. Try again."
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.max_bytes:
                    complete = complete or await drain(receive)
                    raise HTTPException(413, self.message, None if complete else {"Connection": "close"})
            return message

        await self.app(scope, receive_within_limit, send)


async def drain(receive: Receive) -> bool:
    """Read what is left of a refused body (bounded in bytes and time) without keeping it;
    whether it was all read, so the connection can stay open for the client's next request."""
    read = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while read < DRAIN_BYTES:
                message = await receive()
                read += len(message.get("body", b""))
                if message["type"] != "http.request":
                    return False
                if not message.get("more_body", False):
                    return True
    except TimeoutError:
        pass
    return False
