"""Only the app gets in: a per-launch token on every request, loopback ``Host`` and same-origin only.

A server on 127.0.0.1 is still reachable from every web page the user opens (CSRF with
a form post, DNS rebinding with a name that resolves to 127.0.0.1) and from every other
local user. So every request must carry the launch token (``?token=`` once, then the
cookie it sets; or ``Authorization: Bearer`` for API clients such as the OpenAI SDKs),
name a loopback ``Host`` and, when a browser says where it comes from, our own ``Origin``.
The rules themselves live in ``access.py``; this is the ASGI middleware that applies them.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.web.access import bearer, cookie, cookie_name, matches, refusal
from backend.web.errors import problem

#: Paths answered with JSON problems; everything else is the page (HTML).
API_PREFIXES = ("/api/", "/v1/", "/docs", "/redoc", "/openapi.json")

LOCKED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hush is locked</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:15vh auto;padding:0 1.5rem;color:#222}
code{background:#eee;padding:.1em .3em;border-radius:4px}</style></head>
<body><h1>Open Hush from the app</h1>
<p>Hush only answers its own window. Start Hush from your applications menu, or, if you ran
<code>python -m backend</code>, open the address it printed: it ends in <code>?token=…</code>.</p></body></html>
"""


class Guard:
    """ASGI middleware: refuse foreign ``Host`` and ``Origin`` headers (403) and requests
    without the token (401), before any route or static file sees them."""

    def __init__(self, app: ASGIApp, token: str, allowed_origins: list[str] = (), allow_remote: bool = False) -> None:
        self.app = app
        self.token = token
        self.allowed_origins = set(allowed_origins)
        self.allow_remote = allow_remote

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["type"] == "websocket":
            await self.websocket(scope, receive, send, headers)
            return
        path = scope.get("path", "")
        port = (scope.get("server") or ("", 0))[1]
        if refusal := self.refusal(headers, port):
            await problem(403, refusal, path=path)(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if self.matches(query.get("token")):
            if scope.get("method") == "GET" and not path.startswith(API_PREFIXES):
                # The page: set the cookie and drop the token from the address bar (and history).
                rest = urlencode({k: v for k, v in query.items() if k != "token"})
                response = RedirectResponse(path + (f"?{rest}" if rest else ""), status_code=303)
                self.set_cookie(response.headers, port)
                await response(scope, receive, send)
                return
            await self.app(scope, receive, self.sending_cookie(send, port))
            return
        if self.matches(bearer(headers)) or self.matches(cookie(headers, cookie_name(port))):
            await self.app(scope, receive, send)
            return
        if path.startswith(API_PREFIXES):
            detail = (
                "This Hush server needs its access token: open Hush from the app, use the URL with ?token= "
                "that `python -m backend` printed, or send 'Authorization: Bearer <token>'."
            )
            await problem(401, detail, {"WWW-Authenticate": "Bearer"}, path)(scope, receive, send)
            return
        await HTMLResponse(LOCKED_PAGE, status_code=401)(scope, receive, send)

    async def websocket(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        """The same lock for a WebSocket (live transcription), applied before the upgrade: a refused
        handshake is closed unaccepted, which the server answers with a 403."""
        port = (scope.get("server") or ("", 0))[1]
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        token = query.get("token") or bearer(headers) or cookie(headers, cookie_name(port))
        if self.refusal(headers, port) or not self.matches(token):
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.app(scope, receive, send)

    def refusal(self, headers: Headers, port: int) -> str | None:
        """Why the ``Host`` or ``Origin`` is foreign, or ``None``."""
        return refusal(headers, port, self.allowed_origins, self.allow_remote)

    def matches(self, candidate: str | None) -> bool:
        return matches(self.token, candidate)

    def set_cookie(self, headers: MutableHeaders, port: int) -> None:
        headers.append("Set-Cookie", f"{cookie_name(port)}={self.token}; Path=/; HttpOnly; SameSite=Strict")

    def sending_cookie(self, send: Send, port: int) -> Send:
        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.set_cookie(MutableHeaders(scope=message), port)
            await send(message)

        return send_with_cookie
