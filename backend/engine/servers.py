"""Where transcription runs: this computer, or one or more OpenAI-compatible servers.

The choice is remembered in the data folder (``engines.json``), written owner-only (0600)
because it holds the servers' API keys; ``HUSH_ENGINE`` (``local`` or a server's base URL) and
``HUSH_ENGINE_KEY`` override it for a launch, as ``HUSH_MODEL`` overrides the picked model.
A key is never part of what this module logs or returns to the API (``Server.public``), and
plain ``http://`` to anything but this computer is refused unless the user allowed it for
that server: audio and key would cross the network readable by anyone on the way.

Standard library only: the web layer reads and writes the choice without importing torch.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from backend.settings import Settings

ENGINES_FILE = "engines.json"
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
#: The most requests one server may be given at once (a sanity bound on a typed number).
MAX_CONCURRENCY = 32

Kind = Literal["local", "servers"]


class UnusableServer(ValueError):
    """A server's settings Hush will not use; the message says why and what to change."""


@dataclass(frozen=True)
class Server:
    """One OpenAI-compatible server: ``url`` as the OpenAI SDK takes it (``http://gpu-box:8000/v1``),
    the model name it is asked for, and how many requests it takes at once."""

    url: str
    model: str = "whisper-1"
    concurrency: int = 1
    allow_unencrypted: bool = False
    key: str | None = field(default=None, repr=False)
    id: str = field(default_factory=lambda: secrets.token_hex(4))

    @property
    def host(self) -> str:
        """``gpu-box:8000``: how messages and the page name the server."""
        return urlsplit(self.url).netloc

    @property
    def name(self) -> str:
        return f"{self.model} on {self.host}"

    def public(self) -> dict[str, Any]:
        """What the API shows: everything but the key, and whether there is one."""
        values = asdict(self)
        del values["key"]
        return {**values, "has_key": bool(self.key)}

    def checked(self) -> Server:
        """This server with its URL normalised (no trailing slash), or ``UnusableServer`` saying why not."""
        url = self.url.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UnusableServer(f"'{url}' is not a server address: give it as http(s)://host:port/v1.")
        if parts.username or parts.password:
            raise UnusableServer("Put the API key in the key field, not in the address (it would show in logs).")
        if parts.query or parts.fragment:
            raise UnusableServer(f"'{url}' has a query or fragment: give only the base URL, e.g. http://host:8000/v1.")
        if parts.scheme == "http" and not is_loopback(parts.hostname) and not self.allow_unencrypted:
            raise UnusableServer(
                f"{parts.netloc} would be reached over plain http: your audio (and the key) would cross the network "
                'unencrypted. Use https, or tick "allow unencrypted" for this server if the network is yours.'
            )
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise UnusableServer(f"A server takes 1 to {MAX_CONCURRENCY} requests at once, not {self.concurrency}.")
        if not self.model.strip():
            raise UnusableServer("Name the model the server should use (whisper-1 if it has only one).")
        return replace(self, url=url, model=self.model.strip(), key=self.key or None)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Server:
        known = {k: values[k] for k in ("url", "model", "concurrency", "allow_unencrypted", "key", "id") if k in values}
        return cls(**known)


@dataclass(frozen=True)
class EngineChoice:
    """This computer, or the servers (all of them share the work)."""

    kind: Kind = "local"
    servers: tuple[Server, ...] = ()
    #: Set by ``HUSH_ENGINE``: the page shows it but cannot change it for this launch.
    from_environment: bool = False

    @property
    def remote(self) -> bool:
        return self.kind == "servers" and bool(self.servers)

    def describe(self) -> str:
        """Where work goes, for the header pill and messages."""
        if not self.remote:
            return "This computer"
        hosts = ", ".join(dict.fromkeys(s.host for s in self.servers))
        return f"Server: {hosts}" if len(self.servers) == 1 else f"Servers: {hosts}"


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def stored_choice(data_dir: Path) -> EngineChoice:
    """The engine picked in the app (this computer when nothing was picked or the file is unreadable)."""
    path = data_dir / ENGINES_FILE
    try:
        values = json.loads(path.read_text())
        servers = tuple(Server.from_dict(s) for s in values.get("servers", []))
        kind = values.get("kind", "local")
        return EngineChoice(kind if kind in ("local", "servers") else "local", servers)
    except (OSError, ValueError, TypeError, AttributeError):
        return EngineChoice()


def remember_choice(data_dir: Path, choice: EngineChoice) -> None:
    """Write the choice owner-only (it holds keys), atomically: a crash leaves the old file or the new."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / ENGINES_FILE
    temporary = path.with_name(f".{ENGINES_FILE}.{secrets.token_hex(4)}")
    body = json.dumps({"kind": choice.kind, "servers": [asdict(s) for s in choice.servers]}, indent=2)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    with contextlib.suppress(OSError):  # a file written by an older version with wider permissions
        path.chmod(0o600)


def for_settings(settings: Settings) -> EngineChoice:
    """``HUSH_ENGINE`` (and ``HUSH_ENGINE_KEY``) when given, else the remembered choice."""
    asked = (settings.engine or "").strip()
    if not asked:
        return stored_choice(settings.data_dir)
    if asked.lower() == "local":
        return EngineChoice("local", from_environment=True)
    key = settings.engine_key.get_secret_value() if settings.engine_key else None
    server = Server(asked, key=key, id="environment").checked()
    return EngineChoice("servers", (server,), from_environment=True)
