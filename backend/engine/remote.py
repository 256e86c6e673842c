"""The remote engine: a job's audio transcribed by one or more OpenAI-compatible servers.

It takes the same ``Request`` and gives the same ``Transcript`` as the local engine, so the
job queue, the history and resuming do not care where the work ran. Nothing is loaded here
but Silero VAD (small, on torch, already installed): the audio is cut into chunks of at most
``CHUNK_SECONDS`` in the pauses between the windows the local long form would decode, every
configured server is given as many chunks at once as it takes, and the answers are shifted
back to their place and joined in order. A chunk that fails for a reason worth retrying
(``openai_client.Unavailable``) goes to another server where there is one, after a backoff on
the same one otherwise; a server that refuses (``Refused``: the key, the address) stops the
job with its sentence, without retries. The finished prefix is saved after each chunk
(``Partial``), so a restart resumes from there.

The transport is one small protocol, ``Target`` ("transcribe this chunk there"): a server's
``ServerClient`` here, a Ray Serve deployment's replicas in ``backend/cluster``. ``ChunkedEngine``
is the split, dispatch, retry and merge over any targets; ``RemoteEngine`` is it over the servers
of an ``EngineChoice``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Protocol

import numpy as np

from backend.audio import SAMPLE_RATE
from backend.engine.openai_client import Answer, Refused, Sent, ServerClient, ServerError, Unavailable
from backend.engine.servers import EngineChoice, Server
from backend.status import ModelNotReady, ModelState, ModelStatus
from backend.transcript import Cancelled, Failed, InvalidOptions, Options, Partial, Request, Segment, Transcript, Word

log = logging.getLogger(__name__)

#: The longest chunk sent in one request: short enough that a ten-hour file spreads over many
#: servers and a failure costs little; long enough that a server's batching pays. 140 s is five of
#: the ~28 s windows a Hush server cuts a chunk into, whisper-base's batch on the CPU: each chunk
#: is then one full batch, not a full one and a remnant.
CHUNK_SECONDS = 140.0
#: Whisper's window: every model decodes 30 s at a time.
WINDOW_SECONDS = 30.0
#: Tries per chunk (over all servers) before the job fails.
MAX_ATTEMPTS = 5
#: Seconds before a chunk is tried again on the same server: doubling from this, at most ``MAX_BACKOFF``.
BACKOFF = 0.5
MAX_BACKOFF = 8.0


class RemoteFailed(Failed):
    """The servers could not transcribe the job; the message is the last server's sentence."""


@dataclass
class Chunk:
    """A stretch of the audio sent as one request: seconds from the start of the recording."""

    index: int
    start: float
    end: float
    attempts: int = 0
    not_before: float = 0.0
    tried: set[str] = field(default_factory=set)

    @property
    def samples(self) -> slice:
        """Where the chunk lies in the recording's samples."""
        return slice(int(self.start * SAMPLE_RATE), int(self.end * SAMPLE_RATE))


def plan_chunks(
    spans: list[tuple[float, float]], length: float, limit: float = CHUNK_SECONDS
) -> list[tuple[float, float]]:
    """Contiguous ``(start, end)`` stretches covering ``0..length``, each at most ``limit`` s where the
    pauses allow, cut in the middle of a pause between two stretches of speech (``spans``): no
    word is cut in two and nothing, speech or not, is left out."""
    cuts = [0.0]
    previous_end = None
    for start, end in spans:
        if previous_end is not None and end - cuts[-1] > limit and start > previous_end:
            cuts.append((previous_end + start) / 2)
        while end - cuts[-1] > limit * 1.5:  # speech with no pause long enough: cut hard
            cuts.append(cuts[-1] + limit)
        previous_end = end
    while length - cuts[-1] > limit * 1.5:
        cuts.append(cuts[-1] + limit)
    cuts.append(length)
    return [(a, b) for a, b in pairwise(cuts) if b - a > 0.01]


def shifted(segment: Segment, offset: float, end: float) -> Segment:
    """A chunk's segment in the recording's time, kept inside its chunk."""

    def at(t: float) -> float:
        return round(min(offset + t, end), 3)

    words = tuple(Word(at(w.start), at(w.end), w.word, w.probability) for w in segment.words)
    return Segment(at(segment.start), at(segment.end), segment.text, words)


def wav_size(samples: int) -> int:
    """Bytes of ``samples`` as sent (``audio.wav_bytes``: a 44-byte header, two bytes a sample)."""
    return 44 + 2 * samples


def megabytes(size: int) -> str:
    """As the page writes sizes (units of 1024)."""
    return f"{size / 2**20:.1f} MB"


def clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def in_sequence(segments: list[Segment], after: float) -> list[Segment]:
    """A server's segments in time order, none starting before the one before it ended (servers'
    timestamps may overlap a little, or a fallback at another temperature may go back in time)."""
    ordered = []
    for segment in sorted(segments, key=lambda s: s.start):
        start = max(segment.start, after)
        end = max(segment.end, start)
        words = tuple(replace(w, start=clamp(w.start, start, end), end=clamp(w.end, start, end)) for w in segment.words)
        ordered.append(Segment(start, end, segment.text, words))
        after = end
    return ordered


class Target(Protocol):
    """Somewhere a chunk is transcribed: an OpenAI-compatible server (``ServerClient``) or a cluster's replicas."""

    @property
    def id(self) -> str:
        """Stable for the engine's life: which chunks this target failed is remembered by it."""

    @property
    def host(self) -> str:
        """How messages name it."""

    @property
    def concurrency(self) -> int:
        """How many chunks it is given at once."""

    def transcribe(
        self, samples: np.ndarray, options: Options, cancel: threading.Event | None = None, sent: Sent | None = None
    ) -> Answer:
        """``samples`` (16 kHz mono) transcribed, times from their start; ``sent`` hears how many bytes of
        them are on their way. ``Unavailable`` is worth a retry, ``Refused`` stops the job, ``Cancelled``
        once ``cancel`` is set."""

    def close(self) -> None: ...


class Fanout:
    """One job's chunks spread over the targets: a thread per request a target takes at once."""

    def __init__(
        self,
        clients: list[Target],
        chunks: list[Chunk],
        audio: np.ndarray,
        options: Options,
    ) -> None:
        self.clients, self.audio, self.options = clients, audio, options
        self.pending = list(chunks)
        self.results: dict[int, Answer] = {}
        #: Bytes of each chunk's audio handed to its connection so far (the upload's progress).
        self.sent: dict[int, int] = {}
        self.error: ServerError | None = None
        self.retries = 0
        self.stopped = threading.Event()  # set on cancel, failure or the end: workers take no more
        self.changed = threading.Condition()
        self._cooldown: dict[int, float] = {}
        self._failures: dict[int, int] = {}

    def start(self) -> None:
        for number, client in enumerate(self.clients):
            for slot in range(client.concurrency):
                name = f"hush-remote-{client.host}-{slot}"
                threading.Thread(target=self._work, args=(number, client), name=name, daemon=True).start()

    def wait(self, timeout: float) -> None:
        with self.changed:
            self.changed.wait(timeout)

    def stop(self) -> None:
        self.stopped.set()
        with self.changed:
            self.changed.notify_all()

    # -- a worker ------------------------------------------------------------------
    def _take(self, number: int, client: Target) -> Chunk | None:
        """The next chunk for this server (under the lock): one it has not failed yet, at once;
        one every server has failed, after its backoff."""
        now = time.monotonic()
        if now < self._cooldown.get(number, 0.0):
            return None
        everyone = {c.id for c in self.clients}
        for chunk in self.pending:
            fresh = client.id not in chunk.tried
            if fresh or (chunk.tried >= everyone and now >= chunk.not_before):
                self.pending.remove(chunk)
                return chunk
        return None

    def _work(self, number: int, client: Target) -> None:
        while True:
            with self.changed:
                chunk = None
                while not self.stopped.is_set():
                    chunk = self._take(number, client)
                    if chunk is not None:
                        break
                    self.changed.wait(0.2)
                if chunk is None:
                    return
            piece = self.audio[chunk.samples]
            try:
                sent = functools.partial(self.sent.__setitem__, chunk.index)
                answer = client.transcribe(piece, self.options, self.stopped, sent)
            except Cancelled:
                return
            except Refused as error:
                self._fail(error)
                return
            except Unavailable as error:
                self._retry(number, client, chunk, error)
                continue
            except Exception as error:  # a bug here must end the job with a sentence, not leave it waiting
                log.exception("sending chunk %d to %s failed", chunk.index, client.host)
                self._fail(ServerError(f"Sending the audio to {client.host} failed ({type(error).__name__}: {error})."))
                return
            with self.changed:
                self._failures[number] = 0
                self.results[chunk.index] = replace(answer, by=answer.by or client.host)
                self.changed.notify_all()

    def _retry(self, number: int, client: Target, chunk: Chunk, error: Unavailable) -> None:
        log.warning("chunk %d (%.0f-%.0f s) failed on %s: %s", chunk.index, chunk.start, chunk.end, client.host, error)
        with self.changed:
            chunk.attempts += 1
            self.retries += 1
            chunk.tried.add(client.id)
            self.sent.pop(chunk.index, None)
            failures = self._failures[number] = self._failures.get(number, 0) + 1
            self._cooldown[number] = time.monotonic() + min(BACKOFF * 2 ** (failures - 1), MAX_BACKOFF)
            if chunk.attempts >= MAX_ATTEMPTS:
                self.error = self.error or Unavailable(f"{error} Tried {chunk.attempts} times; giving up.")
                self.stopped.set()
            else:
                chunk.not_before = time.monotonic() + min(BACKOFF * 2 ** (chunk.attempts - 1), MAX_BACKOFF)
                self.pending.append(chunk)
                self.pending.sort(key=lambda c: c.index)
            self.changed.notify_all()

    def _fail(self, error: ServerError) -> None:
        with self.changed:
            self.error = self.error or error
            self.stopped.set()
            self.changed.notify_all()


class ChunkedEngine:
    """Targets as one engine: the local engine's interface, no model loaded here. Each job is cut at its
    pauses and its chunks fanned out over the targets; ``jobs_at_once`` jobs run side by side (one for a
    desktop's servers, so that a job finishes before the next starts; a cluster's replicas serve a team)."""

    def __init__(
        self,
        model_id: str,
        targets: list[Target],
        status: ModelStatus,
        chunk_seconds: float = CHUNK_SECONDS,
        jobs_at_once: int = 1,
    ) -> None:
        self.model_id = model_id
        self.chunk_seconds = chunk_seconds
        self._targets = targets
        self._jobs = ThreadPoolExecutor(jobs_at_once, thread_name_prefix="hush-chunked-job")
        self._stopping = threading.Event()
        self._status = status
        #: Chunks each target (a server, a replica) transcribed, by the name its answers carry.
        self.served: Counter[str] = Counter()

    # -- the engine's lifecycle, as the manager drives it ------------------------------
    def start(self) -> None:
        """Nothing to load here: the targets are asked when there is work."""

    def wait_until_loaded(self, timeout: float | None = None) -> ModelStatus:
        return self._status

    def close(self, cancel_pending: bool = True, timeout: float | None = None) -> None:
        if cancel_pending:
            self._stopping.set()
        self._jobs.shutdown(wait=False, cancel_futures=cancel_pending)
        if not cancel_pending:  # switching engines: the queue finishes, then the connections go
            threading.Thread(target=self._close_when_done, daemon=True).start()
        else:
            for client in self._targets:
                client.close()

    def _close_when_done(self) -> None:
        self._jobs.shutdown(wait=True)
        for client in self._targets:
            client.close()

    @property
    def status(self) -> ModelStatus:
        return self._status

    def describe(self) -> str | None:
        """Where work goes, in words, where the engine choice does not say it (``None``: it does)."""
        return None

    # -- what it can do --------------------------------------------------------------
    @property
    def multilingual(self) -> bool:
        return True

    @property
    def languages(self) -> list[str]:
        """Whisper's languages: the server's model decides which it knows, and says so if it does not."""
        from transformers.models.whisper.tokenization_whisper import LANGUAGES  # a table, no model

        return list(LANGUAGES)

    def check(self, options: Options) -> Options:
        if options.temperature is not None and not 0.0 <= options.temperature <= 1.0:
            raise InvalidOptions("temperature must be between 0 and 1.")
        language = options.language.strip().lower() if options.language else None
        if language and language not in self.languages:
            from transformers.models.whisper.tokenization_whisper import TO_LANGUAGE_CODE

            if language not in TO_LANGUAGE_CODE:
                raise InvalidOptions(f"Unknown language '{options.language}'.")
            language = TO_LANGUAGE_CODE[language]
        return replace(options, language=language, prompt=options.prompt or None)

    def realign(
        self, clip: np.ndarray, start: float, end: float, text: str, language: str | None
    ) -> Future[tuple[Word, ...]]:
        """A corrected segment keeps no words: placing them needs the model, which is on the server."""
        future: Future[tuple[Word, ...]] = Future()
        future.set_result(())
        return future

    # -- transcription -----------------------------------------------------------------
    def submit(self, request: Request) -> Future[Transcript]:
        """Queue ``request``; its future gives the transcript, ``Cancelled`` once ``request.cancel`` is
        set (a queued job is dropped, a running one stops its uploads at once)."""
        if self._stopping.is_set():
            raise ModelNotReady(ModelStatus(self.model_id, ModelState.ERROR, "Hush is shutting down."))
        if self.status.state is not ModelState.READY:
            raise ModelNotReady(self.status)
        request = replace(request, options=self.check(request.options))
        return self._jobs.submit(self._transcribe, request, time.perf_counter())

    def transcribe(self, audio: np.ndarray, options: Options = Options()) -> Transcript:
        return self.submit(Request(audio=audio, options=options)).result()

    def _stage(self, sent: int, total: int, back: int, chunks: int) -> str:
        """Where a job's audio is, for the page: how much is sent, how much is back."""
        hosts = ", ".join(dict.fromkeys(c.host for c in self._targets))
        returned = f"{back} of {chunks} pieces transcribed" if chunks > 1 else "waiting for the transcript"
        if sent < total:
            share = f"{megabytes(sent)} of {megabytes(total)} ({sent / total:.0%})"
            return f"Sending the audio to {hosts}: {share}; {returned}."
        return f"All {megabytes(total)} sent to {hosts}; {returned}."

    def _stop_asked(self, request: Request) -> bool:
        return self._stopping.is_set() or (request.cancel is not None and request.cancel.is_set())

    def _transcribe(self, request: Request, queued: float) -> Transcript:
        from backend.engine import decoding, vad  # torch: imported by the first job, not by the server's start

        started = time.perf_counter()
        if self._stop_asked(request):
            raise Cancelled("The transcription was cancelled before it started.")
        length = len(request.audio) / SAMPLE_RATE
        resume = request.resume if request.resume and request.resume.model == self.model_id else None
        done = list(resume.segments) if resume else []
        language = resume.language if resume else None
        offset = resume.until if resume else 0.0
        rest = request.audio[int(offset * SAMPLE_RATE) :]
        # Cut between the windows this computer's long form would decode: a Hush server finds the
        # same windows in each chunk and its transcript is this computer's (other cuts moved every
        # window, and whisper-base's word error rate on ten minutes from 6.1 % to 6.7-8.1 %).
        windows = vad.windows(rest, WINDOW_SECONDS - decoding.END_MARGIN)
        spans = [(start / SAMPLE_RATE, end / SAMPLE_RATE) for start, end in windows]
        planned = plan_chunks(spans, len(rest) / SAMPLE_RATE, self.chunk_seconds)
        chunks = [Chunk(i, offset + a, offset + b) for i, (a, b) in enumerate(planned)]
        split = time.perf_counter()
        total = sum(wav_size(len(request.audio[c.samples])) for c in chunks)
        if request.on_progress is not None:
            request.on_progress(offset / length if length else 0.0, self._stage(0, total, 0, len(chunks)))
        fanout = Fanout(self._targets, chunks, request.audio, request.options)
        fanout.start()
        try:
            emitted, reported = 0, (-1.0, "")
            served_by: list[str] = []
            while emitted < len(chunks):
                fanout.wait(0.2)
                if self._stop_asked(request):
                    raise Cancelled("The transcription was cancelled.")
                if fanout.error is not None:
                    raise RemoteFailed(str(fanout.error))
                finished_chunks = [chunks[i] for i in list(fanout.results)]  # in any order
                seconds = offset + sum(c.end - c.start for c in finished_chunks)
                done_fraction = 1.0 if len(finished_chunks) == len(chunks) else min(seconds / length, 1.0)
                now = (done_fraction, self._stage(sum(fanout.sent.values()), total, len(finished_chunks), len(chunks)))
                if request.on_progress is not None and now != reported:
                    reported = now
                    request.on_progress(*now)
                while emitted in fanout.results:
                    chunk, answer = chunks[emitted], fanout.results[emitted]
                    after = done[-1].end if done else 0.0
                    segments = in_sequence([shifted(s, chunk.start, chunk.end) for s in answer.segments], after)
                    done += segments
                    language = language or answer.language
                    served_by.append(answer.by)
                    self.served[answer.by] += 1
                    emitted += 1
                    if request.on_segments is not None and segments:
                        request.on_segments([replace(s, words=()) for s in segments])
                    if request.on_partial is not None:
                        tokens = tuple(() for _ in done)  # a server gives text, not Hush's tokens
                        request.on_partial(Partial(self.model_id, language, round(chunk.end, 3), tuple(done), tokens))
        finally:
            fanout.stop()
        finished = time.perf_counter()
        return Transcript(
            text=" ".join(s.text for s in done),
            language=language or request.options.language,
            duration=length,
            segments=done,
            model=self.model_id,
            served_by=tuple(dict.fromkeys(served_by)),
            timings={
                "queued": round(started - queued, 4),
                "split": round(split - started, 4),
                "remote": round(finished - split, 4),
                "chunks": float(len(chunks)),
                "retries": float(fanout.retries),
                "total": round(finished - started, 4),
            },
        )


class RemoteEngine(ChunkedEngine):
    """The servers of an ``EngineChoice`` as one engine; one job at a time, its chunks over every server."""

    def __init__(self, choice: EngineChoice, chunk_seconds: float = CHUNK_SECONDS) -> None:
        self.choice = choice
        model_id = ", ".join(dict.fromkeys(s.name for s in choice.servers))
        hosts = ", ".join(dict.fromkeys(s.host for s in choice.servers))
        status = ModelStatus(model_id, ModelState.READY, f"Audio goes to {hosts} to be transcribed.")
        self._servers = [ServerClient(server) for server in choice.servers]
        super().__init__(model_id, list(self._servers), status, chunk_seconds)
        self._probing = threading.Lock()
        self._live: list[Server] | None = None
        threading.Thread(target=self.live_server, name="hush-remote-probe", daemon=True).start()

    def live_server(self, wait: bool = True) -> Server | None:
        """The first server that is a Hush (asked once, in the background from the start): live text
        is relayed to its ``/api/live``. ``wait=False``: ``None`` while the servers are being asked."""
        if not self._probing.acquire(blocking=wait):
            return None
        try:
            if self._live is None:
                found: list[Server] = []
                for client in self._servers:
                    try:
                        if client.is_hush():
                            found.append(client.server)
                            break
                    except (ServerError, RuntimeError) as error:  # RuntimeError: the engine was closed meanwhile
                        log.info("could not ask %s whether it serves live text: %s", client.host, error)
                        return None  # asked again next time: the server may be starting
                self._live = found
            return self._live[0] if self._live else None
        finally:
            self._probing.release()
