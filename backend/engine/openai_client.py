"""One OpenAI-compatible transcription server, as Hush talks to it: audio up, segments back.

Servers differ in what they answer: OpenAI and Hush give ``verbose_json`` with words
(``timestamp_granularities[]=word``), faster-whisper servers and vLLM give segments without
words, some only ``json``'s plain text. The richest form is asked first and a server that
refuses it (400, 415, 422) is asked the next, and the form that worked is remembered.

Failures come in two kinds, so that a job neither gives up on a hiccup nor storms a server
that said no: ``Unavailable`` (cannot connect, timed out, connection reset, 5xx, 429) is worth
a retry, on another server where there is one; ``Refused`` (401/403, 404 on the path, a
redirect, TLS, an answer that is not a Whisper server's) stops the job with a sentence.

The key goes in the ``Authorization`` header to this server only: redirects are never followed
(the key would go along), proxies from the environment are not used, and no message here
contains it.
"""

from __future__ import annotations

import io
import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from backend.audio import SAMPLE_RATE, wav_bytes
from backend.engine.servers import Server
from backend.transcript import Cancelled, Options, Segment, Word

#: What is asked, richest first: (response_format, timestamp_granularities[]).
FORMATS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("verbose_json", ("word", "segment")),
    ("verbose_json", ()),
    ("json", ()),
)
#: Answers that mean "not in this form": the next, simpler one is asked.
FORMAT_REFUSED = {400, 415, 422}
#: Bytes handed to the connection at a time: the cancel check runs between them.
UPLOAD_PIECE = 64 * 1024


class ServerError(Exception):
    """A server could not transcribe; ``str()`` is a sentence naming the server and what to do."""


class Unavailable(ServerError):
    """Worth another try: the server is down, slow, overloaded or broke the connection."""


class Refused(ServerError):
    """Not worth another try: the key, the address or the server itself is wrong."""


@dataclass
class Answer:
    """A server's transcript of one piece of audio, times from the piece's start."""

    text: str
    language: str | None
    segments: list[Segment]
    #: Whether the server placed words in time (segments without words get none made up).
    timed_words: bool
    seconds: float = 0.0
    #: Who transcribed it, as the answer's ``X-Hush-Served-By`` header names it (a server, a cluster's replica).
    by: str = ""


#: Hears how many bytes of a piece's audio have gone to the connection so far (from 0 again when
#: the piece is sent again in a simpler form).
Sent = Callable[[int], None]


class Upload(io.BytesIO):
    """The audio as httpx reads it into the request body: the cancel event is checked between
    pieces, so a cancel stops an upload under way, and ``sent`` hears the bytes handed over."""

    def __init__(self, data: bytes, cancel: threading.Event | None, sent: Sent | None = None) -> None:
        super().__init__(data)
        self.cancel, self.sent = cancel, sent

    def read(self, size: int | None = -1) -> bytes:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("The transcription was cancelled.")
        piece = super().read(UPLOAD_PIECE if size is None or size < 0 else min(size, UPLOAD_PIECE))
        if self.sent is not None:
            self.sent(self.tell())
        return piece


def said(response: httpx.Response, key: str | None = None) -> str:
    """The server's own sentence from an error answer (OpenAI's ``error.message``, FastAPI's
    ``detail``), or the start of its text; the key blanked where a server repeats it."""
    sentence = server_sentence(response)
    return sentence.replace(key, "[the key]") if key else sentence


def server_sentence(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        return text[:200] or response.reason_phrase
    if isinstance(body, dict):
        for candidate in (body.get("error"), body.get("detail"), body.get("message")):
            if isinstance(candidate, dict):
                candidate = candidate.get("message") or candidate.get("detail")
            if isinstance(candidate, str) and candidate:
                return candidate[:300]
    return json.dumps(body)[:200]


def language_code(name: str | None) -> str | None:
    """``english`` (OpenAI's and Hush's verbose_json) or ``en`` (faster-whisper's) as a code."""
    if not name:
        return None
    from transformers.models.whisper.tokenization_whisper import TO_LANGUAGE_CODE  # a table, no model

    lowered = name.strip().lower()
    return TO_LANGUAGE_CODE.get(lowered, lowered)


def words_of(values: object) -> list[Word]:
    """OpenAI's ``words`` (``word``, ``start``, ``end``; ``probability`` where given), unreadable ones left out."""
    if not isinstance(values, list):
        return []
    found = []
    for value in values:
        word = Word.from_dict(value)
        if word is not None and word.word.strip():
            found.append(Word(word.start, max(word.end, word.start), word.word.strip(), word.probability))
    return found


def place_words(segments: list[Segment], words: list[Word]) -> list[Segment]:
    """Each word into the segment its middle falls in (the nearest where none holds it): OpenAI
    gives words beside the segments, not inside them."""
    if not segments or not words:
        return segments
    groups: list[list[Word]] = [[] for _ in segments]
    for word in words:
        middle = (word.start + word.end) / 2
        inside = [i for i, s in enumerate(segments) if s.start <= middle <= s.end]
        nearest = inside[0] if inside else min(range(len(segments)), key=lambda i: distance(segments[i], middle))
        groups[nearest].append(word)
    return [Segment(s.start, s.end, s.text, tuple(g)) for s, g in zip(segments, groups)]


def distance(segment: Segment, moment: float) -> float:
    return max(segment.start - moment, moment - segment.end, 0.0)


def read_answer(host: str, response: httpx.Response, seconds: float) -> Answer:
    """The transcript in a 200 answer, or ``Refused`` when it is not what a Whisper server sends."""
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        raise Refused(
            f"{host} did not answer as a Whisper server does (it sent {kind}, not JSON): check that the base URL "
            "points at an OpenAI-compatible transcription server, e.g. http://host:8000/v1."
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise Refused(f"{host} answered JSON without a transcript's text: it does not look like a Whisper server.")
    text = body["text"].strip()
    language = body.get("language") if isinstance(body.get("language"), str) else None
    raw = body.get("segments")
    if isinstance(raw, list):
        segments = []
        for value in raw:
            segment = Segment.from_dict(value) if isinstance(value, dict) else None
            if segment is not None and segment.text.strip():
                start = min(max(segment.start, 0.0), seconds)
                segments.append(Segment(start, min(max(segment.end, start), seconds), segment.text.strip()))
    else:  # plain json: the text, in one segment over the whole piece
        segments = [Segment(0.0, seconds, text)] if text else []
    words = words_of(body.get("words"))
    inner = [w for value in raw or [] if isinstance(value, dict) for w in words_of(value.get("words"))]
    words = words or inner
    return Answer(text, language_code(language), place_words(segments, words), bool(words), seconds)


@dataclass
class ServerClient:
    """Talks to one server; safe to use from several threads at once (httpx's pool)."""

    server: Server
    #: Seconds to wait for a piece's answer: long audio on a busy server takes a while.
    read_timeout: float = 600.0
    _format: int = 0
    _http: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.server.key}"} if self.server.key else {}
        self._http = httpx.Client(
            base_url=self.server.url + "/",
            headers=headers,
            timeout=httpx.Timeout(connect=10.0, read=self.read_timeout, write=120.0, pool=None),
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: audio and key go to this server only
            limits=httpx.Limits(max_connections=self.server.concurrency + 2),
        )

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def id(self) -> str:
        return self.server.id

    @property
    def concurrency(self) -> int:
        return self.server.concurrency

    def close(self) -> None:
        self._http.close()

    # -- transcription -----------------------------------------------------------
    def transcribe(
        self,
        samples: np.ndarray,
        options: Options,
        cancel: threading.Event | None = None,
        sent: Sent | None = None,
    ) -> Answer:
        """``samples`` (16 kHz mono) transcribed by this server, in the richest form it gives."""
        audio = wav_bytes(samples)
        seconds = len(samples) / SAMPLE_RATE
        path = "audio/translations" if options.task == "translate" else "audio/transcriptions"
        first = self._format
        for index in range(first, len(FORMATS)):
            response_format, granularities = FORMATS[index]
            data: dict[str, Any] = {"model": self.server.model, "response_format": response_format}
            if granularities:
                data["timestamp_granularities[]"] = list(granularities)
            if options.language and options.task == "transcribe":
                data["language"] = options.language
            if options.prompt:
                data["prompt"] = options.prompt
            if options.temperature is not None:
                data["temperature"] = str(options.temperature)
            upload = Upload(audio, cancel, sent)
            response = self._send("POST", path, data=data, files={"file": ("audio.wav", upload, "audio/wav")})
            if response.status_code in FORMAT_REFUSED and index < len(FORMATS) - 1:
                continue
            check(self.host, path, response, self.server.key)
            answer = read_answer(self.host, response, seconds)
            self._format = index
            return answer
        raise AssertionError("unreachable: the last format's answer is checked")

    def models(self) -> list[str] | None:
        """The model ids ``GET /models`` lists, or ``None`` where the server has no such list."""
        listed = self._model_list()
        return None if listed is None else [str(m["id"]) for m in listed]

    def is_hush(self) -> bool:
        """Whether the server is a Hush (its models are ``owned_by: hush``): it serves live text too."""
        listed = self._model_list()
        return bool(listed) and all(m.get("owned_by") == "hush" for m in listed)

    def _model_list(self) -> list[dict[str, Any]] | None:
        response = self._send("GET", "models")
        if response.status_code == 404:
            return None
        check(self.host, "models", response, self.server.key)
        try:
            data = response.json().get("data", [])
        except (ValueError, AttributeError):
            return None
        return [m for m in data if isinstance(m, dict) and "id" in m] if isinstance(data, list) else None

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise Unavailable(f"{self.host} did not answer in time.") from None
        except httpx.ConnectError as error:
            if tls_failure(error):
                raise Refused(
                    f"The secure connection to {self.host} failed ({reason(error)}): check its certificate, or the "
                    "address (http or https)."
                ) from None
            raise Unavailable(f"{self.host} cannot be reached ({reason(error)}).") from None
        except httpx.TransportError as error:  # reset, closed mid-answer, protocol error
            raise Unavailable(f"The connection to {self.host} broke off ({reason(error)}).") from None


def check(host: str, path: str, response: httpx.Response, key: str | None = None) -> None:
    """``Refused`` or ``Unavailable`` for an answer that is not a success, with the server's sentence
    (never the ``key``, should the server repeat it)."""
    code = response.status_code
    if code < 300:
        return
    if code < 400:
        where = httpx.URL(response.headers.get("location", "")).host or "another address"
        raise Refused(
            f"{host} redirected the request to {where}; Hush does not follow redirects (the key would go along): "
            "give the final address as the base URL."
        )
    if code in (401, 403):
        raise Refused(f"{host} refused the request ({code}: {said(response, key)}). Check the API key for this server.")
    if code == 404:
        raise Refused(
            f"{host} has no /{path} ({code}): check the base URL, which ends where the OpenAI API starts, "
            "e.g. http://host:8000/v1."
        )
    if code == 429 or code >= 500:
        raise Unavailable(f"{host} could not take the audio now ({code}: {said(response, key)}).")
    raise Refused(f"{host} refused the audio ({code}: {said(response, key)}).")


def tls_failure(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE" in str(seen).upper() or "SSL" in str(seen).upper():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def reason(error: BaseException) -> str:
    """The innermost cause's words, without the request (which carries no key, but is noise)."""
    innermost = error
    while innermost.__cause__ is not None or innermost.__context__ is not None:
        innermost = innermost.__cause__ or innermost.__context__
    return (str(innermost) or type(innermost).__name__)[:200]


def round_trip(client: ServerClient, samples: np.ndarray, options: Options) -> tuple[Answer, float]:
    """One transcription and the seconds it took, for the engines panel's Test button."""
    started = time.perf_counter()
    answer = client.transcribe(samples, options)
    return answer, time.perf_counter() - started
