"""``/api/engines``: where transcription runs (this computer or servers), and a server's test.

A key goes in (``PUT``, ``POST /test``) and never comes out: the answers say only whether a
server has one. A server sent back with its id and no key keeps the key stored for it.
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from backend import audio
from backend.engine.openai_client import ServerClient, ServerError, round_trip
from backend.engine.servers import EngineChoice, Server, UnusableServer
from backend.history.jobs import Jobs
from backend.transcript import Options
from backend.web.dependencies import JobsDep, ModelsDep
from backend.web.live_relay import LIVE_OFF
from backend.web.schemas import Engines, EngineSettings, Problem, ServerInfo, ServerSettings, ServerTest

router = APIRouter(prefix="/api/engines", tags=["engines"])

#: The test clip: the start of the newest recording in the history, this long at most.
TEST_SECONDS = 8.0


def describe(models: ModelsDep) -> Engines:
    engines = models.engines
    live, why = live_state(models)
    return Engines(
        kind=engines.kind,
        servers=[ServerInfo(**server.public()) for server in engines.servers],
        where=engines.describe(),
        from_environment=engines.from_environment,
        live=live,
        live_detail=why,
    )


def live_state(models: ModelsDep) -> tuple[bool, str]:
    """Live text needs this computer's model or a Hush among the servers (the socket is relayed there);
    while the servers are still being asked, it counts as off."""
    if not models.engines.remote:
        return True, ""
    from backend.engine.remote import RemoteEngine

    engine = models.current
    if isinstance(engine, RemoteEngine) and engine.live_server(wait=False) is not None:
        return True, ""
    return False, LIVE_OFF


def to_server(body: ServerSettings, stored: EngineChoice) -> Server:
    """The server as sent, with its stored key where the page sent none for a known id."""
    known = {server.id: server for server in stored.servers}
    if body.key is not None:
        key = body.key.get_secret_value() or None
    else:
        key = known[body.id].key if body.id in known else None
    values = {"id": body.id} if body.id else {}
    server = Server(body.url, body.model, body.concurrency, body.allow_unencrypted, key, **values)
    try:
        return server.checked()
    except UnusableServer as error:
        raise HTTPException(422, str(error)) from None


@router.get("", response_model=Engines, summary="Where transcription runs (keys are never shown)")
async def get_engines(models: ModelsDep) -> Engines:
    return await run_in_threadpool(describe, models)


@router.put(
    "",
    response_model=Engines,
    responses={409: {"model": Problem}, 422: {"model": Problem}},
    summary="Choose this computer or servers; remembered for the next launch",
)
async def set_engines(body: EngineSettings, models: ModelsDep) -> Engines:
    if models.engines.from_environment:
        raise HTTPException(409, "HUSH_ENGINE sets the engine for this launch: unset it to choose in the app.")
    servers = tuple(to_server(s, models.engines) for s in body.servers)
    if body.kind == "servers" and not servers:
        raise HTTPException(422, "Add a server first: its base URL, e.g. http://gpu-box:8000/v1.")
    await run_in_threadpool(models.use, EngineChoice(body.kind, servers))
    return await run_in_threadpool(describe, models)


@router.post(
    "/test",
    response_model=ServerTest,
    responses={422: {"model": Problem}},
    summary="Send a server a second of silence and a short clip: what it answers, its models, the round trip",
)
async def test_server(body: ServerSettings, models: ModelsDep, jobs: JobsDep) -> ServerTest:
    server = to_server(body, models.engines)
    clip = await run_in_threadpool(test_clip, jobs)
    return await run_in_threadpool(probe, server, clip)


def test_clip(jobs: Jobs) -> np.ndarray | None:
    """The first seconds of the newest recording in the history, or ``None`` when there is none."""
    found, _ = jobs.store.list("", 1, 0)
    if not found or not found[0].audio.is_file():
        return None
    try:
        with found[0].audio.open("rb") as source:
            samples = audio.decode(source, "the newest recording", jobs.max_seconds)
    except (audio.AudioError, OSError):
        return None
    return samples[: int(TEST_SECONDS * audio.SAMPLE_RATE)]


def probe(server: Server, clip: np.ndarray | None) -> ServerTest:
    client = ServerClient(server, read_timeout=120)
    try:
        listed = client.models()
        silence, _ = round_trip(client, np.zeros(audio.SAMPLE_RATE, np.float32), Options(temperature=0))
        if clip is None:
            return ServerTest(
                ok=True,
                detail=f"{server.host} transcribed a second of silence. Record something to test it with speech too.",
                models=listed,
                text=silence.text,
            )
        answer, seconds = round_trip(client, clip, Options())
    except ServerError as error:
        return ServerTest(ok=False, detail=str(error))
    finally:
        client.close()
    words = "with words in time" if answer.timed_words else "without word timings (segments only)"
    heard = f"“{answer.text}”" if answer.text else "no words"
    detail = f"{server.host} heard {heard} in the newest recording's first seconds, {words}, in {seconds:.2f} s."
    return ServerTest(ok=True, detail=detail, models=listed, seconds=round(seconds, 3), text=answer.text,
                      timed_words=answer.timed_words)  # fmt: skip
