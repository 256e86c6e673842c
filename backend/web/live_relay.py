"""Live text while a server is the engine: the page's socket relayed to a Hush server's ``/api/live``.

Only Hush serves live text over a socket (OpenAI-compatible servers take whole files), so with
a Hush among the servers the page's PCM goes there and its ``update`` messages come back as
they are; with none, the page hears once why live text is off (the final transcript still comes
from the server at Stop). The key goes in the ``Authorization`` header; ``websockets`` drops it on
a redirect to another origin, and no proxy from the environment is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from backend.engine.manager import ModelManager
from backend.engine.servers import Server
from backend.web.schemas import LiveMessage

log = logging.getLogger(__name__)

LIVE_ON_CLUSTER = (
    "Live text is off: this Hush runs on a cluster (hush-serve), which transcribes recordings and files but "
    "serves no live text. The transcript comes when you stop."
)
LIVE_OFF = (
    "Live text is off: the chosen server is not a Hush server, and only Hush serves live text. The transcript "
    "still comes from the server when you stop."
)


def live_url(server: Server, query: dict[str, str]) -> str:
    """``http://host:8000/v1`` → ``ws://host:8000/api/live?…`` (https → wss)."""
    parts = urlsplit(server.url)
    root = parts.path.removesuffix("/").removesuffix("/v1")
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, f"{root}/api/live", urlencode(query), ""))


async def send(websocket: WebSocket, message: LiveMessage) -> None:
    await websocket.send_text(message.model_dump_json(exclude_none=True))


async def relay(websocket: WebSocket, server: Server, query: dict[str, str]) -> None:
    """Pass the page's messages to the server and the server's back, until either side ends."""
    headers = {"Authorization": f"Bearer {server.key}"} if server.key else {}
    try:
        async with connect(live_url(server, query), additional_headers=headers, proxy=None) as upstream:
            to_server = asyncio.create_task(forward_up(websocket, upstream))
            to_page = asyncio.create_task(forward_down(websocket, upstream))
            done, pending = await asyncio.wait({to_server, to_page}, return_when=asyncio.FIRST_COMPLETED)
            if to_server in done and to_server.exception() is None:  # the page said stop: wait for "done"
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(to_page), 60)
            for task in pending:
                task.cancel()
            for task in {to_server, to_page}:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, ConnectionClosed, RuntimeError):
                    await task
    except (OSError, TimeoutError, WebSocketException) as error:
        log.warning("live text from %s is unavailable: %s", server.host, error)
        detail = f"Live text from {server.host} is unavailable ({type(error).__name__}); the recording goes on."
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await send(websocket, LiveMessage(type="paused", detail=detail))


async def forward_up(websocket: WebSocket, upstream) -> None:
    """The page's PCM and its ``stop`` to the server; returns after ``stop`` (or raises when the page goes)."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("bytes"):
            await upstream.send(message["bytes"])
        elif message.get("text"):
            await upstream.send(message["text"])
            if '"stop"' in message["text"]:
                return


async def forward_down(websocket: WebSocket, upstream) -> None:
    """The server's messages to the page, as they are, until the server closes."""
    async for message in upstream:
        await websocket.send_text(message if isinstance(message, str) else message.decode())


async def remote_live(websocket: WebSocket, models: ModelManager, language: str | None, task: str) -> None:
    """Live text with servers as the engine: relayed to a Hush among them, or off with a sentence."""
    from backend.engine.remote import RemoteEngine

    engine = models.current
    server = await run_in_threadpool(engine.live_server) if isinstance(engine, RemoteEngine) else None
    if server is None:
        await explain_off(websocket, LIVE_OFF)
    else:
        await relay(websocket, server, {"language": language or "", "task": task})


async def explain_off(websocket: WebSocket, detail: str) -> None:
    """No Hush among the servers: say so once, keep the socket until the page stops, then ``done``."""
    await send(websocket, LiveMessage(type="paused", detail=detail))
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") and '"stop"' in message["text"]:
                await send(websocket, LiveMessage(type="done", confirmed="", tentative=""))
                return
