"""``/api/live``: live transcription over a WebSocket, words shown while the speaker goes on.

The page sends 16 kHz mono 16-bit little-endian PCM as binary messages (from an
AudioWorklet: MediaRecorder's chunks cannot be decoded one by one) and ``{"type": "stop"}``
when the recording ends. Hush answers with JSON messages (``schemas.LiveMessage``):
``update`` (all confirmed text so far, which only ever grows, and the tentative tail),
``paused`` (no live text for now: the model is loading, or other live sessions use it;
the audio is kept and the session catches up), and ``done`` after ``stop``.
The recording itself still goes to ``POST /api/transcriptions`` at Stop: the live text is
a preview, the stored transcript comes from the full-accuracy pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect

from backend.audio import SAMPLE_RATE
from backend.engine.streaming import LiveSession, Update, live_session
from backend.status import ModelNotReady
from backend.transcript import Task
from backend.web.dependencies import ModelsDep, blank_to_none
from backend.web.live_relay import LIVE_ON_CLUSTER, explain_off, remote_live
from backend.web.schemas import LiveMessage

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])

#: Live sessions served at once; more would each get slower updates than a person can use.
MAX_SESSIONS = 2
#: How often a session that waits (model loading, too many sessions) tries again, in seconds.
RETRY_SECONDS = 1.0


class Slots:
    """How many live sessions this app serves now (one event loop: no lock needed)."""

    def __init__(self) -> None:
        self.taken = 0


def slots(websocket: WebSocket) -> Slots:
    if not hasattr(websocket.app.state, "live_slots"):
        websocket.app.state.live_slots = Slots()
    return websocket.app.state.live_slots


async def send(websocket: WebSocket, message: LiveMessage) -> None:
    await websocket.send_text(message.model_dump_json(exclude_none=True))


@router.websocket("/api/live")
async def live(
    websocket: WebSocket,
    models: ModelsDep,
    used: Annotated[Slots, Depends(slots)],
    language: Annotated[str | None, Query(description="Language code; empty or 'auto' detects it once.")] = None,
    task: Annotated[Task, Query()] = "transcribe",
) -> None:
    await websocket.accept()
    if models.fixed:  # a cluster's ingress (hush-serve): its replicas transcribe chunks, not live audio
        await explain_off(websocket, LIVE_ON_CLUSTER)
        await close_quietly(websocket)
        return
    if models.engines.remote:  # no model here: relayed to a Hush server, or off with a sentence
        await remote_live(websocket, models, blank_to_none(language), task)
        await close_quietly(websocket)
        return
    gone = threading.Event()  # set when the page goes: a pass under way stops at its next decoding step
    session = live_session(models, blank_to_none(language), task, gone)
    with contextlib.suppress(ModelNotReady):  # loads the detector before the first words, if the model is there
        await session.speech(np.zeros(SAMPLE_RATE, np.float32))
    stopped = asyncio.Event()
    receiving = asyncio.create_task(receive(websocket, session, stopped))
    serving = False
    try:
        while not stopped.is_set():
            if not serving and used.taken >= MAX_SESSIONS:
                busy = "Other live transcriptions are using the model; live text resumes when one ends."
                await send(websocket, LiveMessage(type="paused", detail=busy))
                await wait(stopped, RETRY_SECONDS)
                continue
            if not serving:
                used.taken += 1
                serving = True
            if session.due():
                await answer_unless_gone(websocket, session, receiving, gone)
            else:
                await wait(stopped, 0.1)
        if serving and receiving.done() and receiving.exception() is None:
            await answer(websocket, session, final=True, done=True)  # the page said stop: finish the text
    except (WebSocketDisconnect, RuntimeError):  # the page went while an answer was on its way
        pass
    finally:
        if serving:
            used.taken -= 1
        receiving.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await receiving
        await close_quietly(websocket)


async def close_quietly(websocket: WebSocket) -> None:
    """Close the socket; a page that went first (it closes its socket when its recording stops) is no error."""
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.close()


async def answer_unless_gone(
    websocket: WebSocket, session: LiveSession, receiving: asyncio.Task[None], gone: threading.Event
) -> None:
    """One pass, dropped when the page goes meanwhile: it stops at its next decoding step (``gone``),
    and what is still queued of it is cancelled. A dictation's preview is closed at the shortcut's
    release, and its last pass must not delay the dictation's transcription."""
    passing = asyncio.create_task(answer(websocket, session, final=False))
    await asyncio.wait({passing, receiving}, return_when=asyncio.FIRST_COMPLETED)
    if not passing.done() and receiving.exception() is not None:  # gone, not stopped
        gone.set()
        passing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await passing


async def answer(websocket: WebSocket, session: LiveSession, final: bool, done: bool = False) -> None:
    """Run one pass and send what it gives; a model that is not ready pauses the text, not the session."""
    try:
        update: Update = await session.step(final=final)
    except ModelNotReady as error:
        await send(websocket, LiveMessage(type="paused", detail=error.status.detail))
        return
    except Exception as error:  # live text is a preview: a failed pass pauses it, the recording goes on
        log.exception("a live transcription pass failed")
        await send(websocket, LiveMessage(type="paused", detail=f"Live text failed ({type(error).__name__})."))
        return
    await send(
        websocket,
        LiveMessage(
            type="done" if done else "update",
            confirmed=update.confirmed,
            tentative=update.tentative,
            seconds=round(update.seconds, 2),
            language=session.language,
        ),
    )


async def receive(websocket: WebSocket, session: LiveSession, stopped: asyncio.Event) -> None:
    """Feed the session the audio as it arrives, until ``stop`` or the page goes."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            if message.get("bytes"):
                pcm = np.frombuffer(message["bytes"][: len(message["bytes"]) // 2 * 2], dtype="<i2")
                session.feed(pcm.astype(np.float32) / 32768.0)
            elif message.get("text") and '"stop"' in message["text"]:
                return
    finally:
        stopped.set()


async def wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
