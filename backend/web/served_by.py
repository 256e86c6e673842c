"""``X-Hush-Served-By``: which server or cluster replica transcribed an answer.

A route learns who served it only when the transcript is done, after FastAPI has chosen the
response's type (a model, JSON, plain text); so the transcriber writes the names into the request's
scope and this middleware adds the header as the answer starts. Answers transcribed by this process
itself, and streamed ones (their headers go before the work), carry none.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Hush-Served-By"
KEY = "hush.served_by"


def served_by(scope: Scope, names: tuple[str, ...]) -> None:
    """Remember for this request's answer who transcribed it (nothing when this process did)."""
    if names:
        scope[KEY] = names


class ServedBy:
    """ASGI middleware: the names ``served_by`` left in the scope, as the answer's header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get(KEY):
                MutableHeaders(scope=message)[HEADER] = ", ".join(scope[KEY])
            await send(message)

        await self.app(scope, receive, sending)
