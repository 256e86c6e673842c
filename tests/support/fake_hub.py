"""A stand-in for the Hugging Face hub on 127.0.0.1, serving checkpoint folders.

It speaks the four calls ``snapshot_download`` makes (repo info, file tree, HEAD and
GET of each file with ranges), and can throttle so download progress is visible.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from backend.web.server import bind

#: The repository the ``hub`` fixture serves (the random-weight checkpoint).
HUB_REPO = "hush-tests/tiny-whisper"
SHA = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(self, repos: dict[str, Path], bytes_per_second: int | None = None) -> None:
        self.repos = repos
        self.bytes_per_second = bytes_per_second
        self.requests: list[str] = []
        app = Starlette(
            routes=[
                Route("/api/models/{owner}/{name}/revision/{revision}", self.info),
                Route("/api/models/{owner}/{name}/tree/{revision}", self.tree),
                Route("/{owner}/{name}/resolve/{revision}/{filename:path}", self.file, methods=["GET", "HEAD"]),
            ]
        )
        self.socket = bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        self.thread.start()
        while not self.server.started:
            threading.Event().wait(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)

    def folder(self, request: Request) -> Path | None:
        self.requests.append(f"{request.method} {request.url.path}")
        return self.repos.get(f"{request.path_params['owner']}/{request.path_params['name']}")

    def files(self, folder: Path) -> list[Path]:
        return sorted(p for p in folder.iterdir() if p.is_file())

    async def info(self, request: Request) -> Response:
        folder = self.folder(request)
        if folder is None:
            return JSONResponse({"error": "Repository not found"}, 404, headers={"X-Error-Code": "RepoNotFound"})
        repo = f"{request.path_params['owner']}/{request.path_params['name']}"
        siblings = [{"rfilename": p.name} for p in self.files(folder)]
        return JSONResponse({"id": repo, "modelId": repo, "sha": SHA, "siblings": siblings, "private": False})

    async def tree(self, request: Request) -> Response:
        folder = self.folder(request)
        if folder is None:
            return JSONResponse({"error": "Repository not found"}, 404, headers={"X-Error-Code": "RepoNotFound"})
        entries = [
            {"type": "file", "path": p.name, "size": p.stat().st_size, "oid": hashlib.sha1(p.read_bytes()).hexdigest()}
            for p in self.files(folder)
        ]
        return JSONResponse(entries)

    async def file(self, request: Request) -> Response:
        folder = self.folder(request)
        path = folder / request.path_params["filename"] if folder else None
        if path is None or not path.is_file():
            return JSONResponse({"error": "Entry not found"}, 404, headers={"X-Error-Code": "EntryNotFound"})
        data = path.read_bytes()
        start = 0
        if ranged := request.headers.get("range", "").removeprefix("bytes="):
            start = int(ranged.split("-")[0] or 0)
        headers = {
            "X-Repo-Commit": SHA,
            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
            "Content-Length": str(len(data) - start),
            "Accept-Ranges": "bytes",
        }
        if request.method == "HEAD":
            return Response(headers=headers)

        async def body():
            chunk = 64 * 1024
            for offset in range(start, len(data), chunk):
                yield data[offset : offset + chunk]
                if self.bytes_per_second:
                    await asyncio.sleep(chunk / self.bytes_per_second)

        return StreamingResponse(body(), status_code=206 if start else 200, headers=headers)
