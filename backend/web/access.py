"""Who may ask: the launch token, a loopback ``Host`` and our own ``Origin``.

The rules alone, with the standard library only: the app's middleware (``security.py``)
applies them, and so does the answer given while the app is still importing
(``starting.py``). Headers are anything with a case-insensitive (or lower-case) ``get``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from typing import Protocol

#: This computer's own interface: the hosts Hush binds unless ``HUSH_ALLOW_REMOTE`` says otherwise.
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
#: The same, as a ``Host`` header names them.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class Headers(Protocol):
    def get(self, key: str, default: str = ...) -> str | None: ...


def cookie_name(port: int) -> str:
    """Cookies ignore ports: a name per port keeps two Hush servers from clobbering each other's."""
    return f"hush_token_{port}"


def refusal(headers: Headers, port: int, allowed_origins: Iterable[str] = (), allow_remote: bool = False) -> str | None:
    """Why the ``Host`` or ``Origin`` is foreign, or ``None``."""
    own = {f"{name}:{port}" for name in LOOPBACK_NAMES}
    host = headers.get("host") or ""
    if not allow_remote and host not in own:
        return f"Hush only answers requests for 127.0.0.1:{port} or localhost:{port}, not '{host[:100]}'."
    origin = headers.get("origin")
    if origin is not None and origin not in {f"http://{h}" for h in own | {host}} | set(allowed_origins):
        return (
            f"Requests from the web page at '{origin[:100]}' are not allowed. "
            "To allow a page of yours, add its origin to HUSH_ALLOWED_ORIGINS."
        )
    return None


def matches(token: str, candidate: str | None) -> bool:
    """Whether ``candidate`` is the token (in constant time)."""
    return bool(candidate) and secrets.compare_digest(candidate.encode(), token.encode())


def bearer(headers: Headers) -> str | None:
    scheme, _, value = (headers.get("authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def cookie(headers: Headers, name: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie") or "")
    except CookieError:  # a malformed Cookie header is just no cookie
        return None
    return jar[name].value if name in jar else None
