"""The Whisper engine: loads a checkpoint in the background and turns audio into text.

It knows nothing of HTTP. Audio of one window is encoded once and decoded greedily by
``decoding.py``'s own decoding loop (beam search: by transformers' ``generate``). Longer audio
goes one of two ways (``HUSH_LONG_FORM``): by default it is cut at its pauses and decoded
several chunks at a time (``decoding.py``); with beam search, or when asked, it goes
through transformers' implementation of OpenAI's sequential long-form algorithm
(``generate`` on the whole log-mel spectrogram): each window starts where the last
complete segment ended, so words at a window seam are neither lost nor doubled
(``sequential.py`` mends the two cases where it skips or garbles speech). transformers'
chunked pipeline, which stitches overlapping chunks heuristically, is used for neither.
All inference runs on one worker thread: concurrent requests queue instead of
fighting over the CPU.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    WhisperConfig,
    WhisperForConditionalGeneration,
    WhisperProcessor,
)
from transformers.models.whisper.tokenization_whisper import TO_LANGUAGE_CODE

from backend.audio import SAMPLE_RATE
from backend.checkpoints import locate, voices
from backend.engine import attention, decoding, diarization, loading, memory, vad
from backend.engine.features import log_mel
from backend.engine.precision import apply_precision, cross_attention_in_bfloat16, load_dtype, resolve_precision
from backend.engine.sequential import LongFormWhisper
from backend.engine.threads import Threads
from backend.engine.timing import Aligner, Decoded
from backend.engine.voices import VoiceEncoder, speaker_turns
from backend.engine.worker import InferenceWorker
from backend.settings import LongForm, Precision
from backend.status import ModelMissing, ModelNotReady, ModelState, ModelStatus
from backend.transcript import (
    MOST_SPEAKERS,
    SPEAKERS_AUTO,
    Cancelled,
    InvalidOptions,
    Options,
    Priority,
    Request,
    Segment,
    Transcript,
    Word,
    speakers_problem,
)

log = logging.getLogger(__name__)

#: Hears each window's finished segments as the windows go by.
Segments = Callable[[list[Segment]], None]

#: The temperature fallback's thresholds for transformers' ``generate``: it measures the compression
#: ratio on token bytes, hence 1.35 not 2.4.
FALLBACK_THRESHOLDS = {"compression_ratio_threshold": 1.35, "logprob_threshold": -1.0, "no_speech_threshold": 0.6}


#: ``from_pretrained`` builds the model under process-wide state (the meta device): two loads at once,
#: as a model switch during a load makes, fail with "Cannot copy out of meta tensor".
LOADING = threading.Lock()


class SuppressTokens(LogitsProcessor):
    """The checkpoint's ``suppress_tokens`` as a mask built once.

    transformers' own processor rebuilds that mask with ``torch.isin`` over the whole
    vocabulary at every step, a cost paid again for every token decoded."""

    def __init__(self, tokens: list[int], vocab_size: int, device: torch.device) -> None:
        self.mask = torch.zeros(vocab_size, dtype=torch.bool, device=device)
        self.mask[[t for t in tokens if 0 <= t < vocab_size]] = True

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return scores.masked_fill(self.mask, -float("inf"))


class StopWhenSet(LogitsProcessor):
    """Raises ``Cancelled`` at the next decoding step once any of the events is set.

    Checked before every token, not only between windows: a whisper-small window takes
    seconds on a laptop CPU, and shutting down must not wait for it. ``every_step`` runs there
    too (``Threads.adjust``: the team of threads follows the free cores within a window)."""

    def __init__(self, *events: threading.Event | None, every_step: Callable[[], object] = lambda: None) -> None:
        self.events = [e for e in events if e is not None]
        self.every_step = every_step

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)

    def check(self) -> None:
        self.every_step()
        if self.is_set():
            raise Cancelled("The transcription was cancelled.")

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        self.check()
        return scores


def pick_device(preference: str) -> torch.device:
    """The requested device, or for ``auto`` the fastest one present."""
    if preference != "auto":
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def is_multilingual(model: WhisperForConditionalGeneration) -> bool:
    """False for the ``.en`` checkpoints, which have no language or task tokens."""
    config = model.generation_config
    return bool(getattr(config, "is_multilingual", False)) and bool(getattr(config, "lang_to_id", None))


def check_speakers(options: Options) -> None:
    """``InvalidOptions`` where speakers cannot be labelled as asked (a bad count, no voice encoder)."""
    problem = speakers_problem(options.speakers, 1, MOST_SPEAKERS)
    if problem is None and not 1 <= options.min_speakers <= options.max_speakers <= MOST_SPEAKERS:
        problem = f"min_speakers and max_speakers must be from 1 to {MOST_SPEAKERS}, the first not above the second."
    if problem is None:
        try:
            voices.locate()  # the digest is checked once per process
        except voices.VoicesMissing as error:
            problem = str(error)
    if problem:
        raise InvalidOptions(problem)


def language_code(value: str) -> str:
    """Accept ``de`` as well as ``german``/``German``."""
    lowered = value.strip().lower()
    return TO_LANGUAGE_CODE.get(lowered, lowered)


class Engine:
    """One Whisper checkpoint on one device, loaded in the background."""

    def __init__(
        self,
        model_id: str,
        device: str = "auto",
        precision: Precision | str = Precision.AUTO,
        hub_endpoint: str | None = None,
        long_form: LongForm | str = LongForm.AUTO,
    ) -> None:
        self.model_id = model_id
        self.long_form = LongForm(long_form)
        self.hub_endpoint = hub_endpoint
        self.device = pick_device(device)
        self.requested_precision = Precision(precision)
        self.precision = resolve_precision(precision, self.device)  # the final word once the width is known
        self._status = ModelStatus(model_id, ModelState.LOADING, f"Loading {model_id}…")
        self._loaded = threading.Event()
        self._threads = Threads()
        self._worker = InferenceWorker(before_each=self._threads.adjust)
        self._stopping = threading.Event()
        self._started = False
        self._model: WhisperForConditionalGeneration | None = None
        self._processor: WhisperProcessor | None = None
        self._suppress: SuppressTokens | None = None
        self._aligner: Aligner | None = None
        self._batched: decoding.BatchedWhisper | None = None
        self._voices: VoiceEncoder | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        """Begin loading on a background thread; the caller can serve requests at once."""
        if self._started:
            return
        self._started = True
        threading.Thread(target=self._load, name="hush-model-loader", daemon=True).start()

    def wait_until_loaded(self, timeout: float | None = None) -> ModelStatus:
        self._loaded.wait(timeout)
        return self._status

    def close(self, cancel_pending: bool = True, timeout: float | None = None) -> None:
        """Stop taking work. ``cancel_pending``: the running job stops at its next decoding step and
        queued ones are dropped (shutting down); otherwise they all finish first (switching models).
        ``timeout``: wait up to that long for the inference thread to end (before a process exits)."""
        if cancel_pending:
            self._stopping.set()
        self._worker.shutdown(cancel_pending, timeout)

    @property
    def status(self) -> ModelStatus:
        return self._status

    def _set_status(self, state: ModelState, detail: str) -> None:
        self._status = ModelStatus(self.model_id, state, detail)
        log.info("model %s: %s (%s)", self.model_id, state, detail)

    def _load(self) -> None:
        with memory.loading():  # the weights, the warm-up's buffers: blocks that are not to stay in the heaps
            self._load_model()

    def _load_model(self) -> None:
        try:
            # A faster-whisper folder or .pt file is converted here the first time: the status says how far.
            converting = functools.partial(self._set_status, ModelState.LOADING)
            folder = locate.locate(self.model_id, self.hub_endpoint, converting)
            processor = WhisperProcessor.from_pretrained(folder, local_files_only=True)
            config = WhisperConfig.from_pretrained(folder, local_files_only=True)
            self.precision = resolve_precision(self.requested_precision, self.device, config.d_model)
            with LOADING:
                model = None
                if self.precision is Precision.INT8:  # layer by layer, never the whole float32 model
                    model = loading.load_int8(LongFormWhisper, Path(folder), config, attention.NAME)
                if model is None:
                    model = LongFormWhisper.from_pretrained(
                        folder,
                        config=config,
                        dtype=load_dtype(self.precision),
                        attn_implementation=attention.NAME,
                        local_files_only=True,
                    )
                    weights = sorted(Path(folder).glob("*.safetensors"))
                    model = apply_precision(model.to(self.device).eval(), self.precision, weights)
                if self.precision is Precision.INT8:
                    cross_attention_in_bfloat16(model)
            # the encoder's last step, in transformers' pass over a window and in encoder.py's short one
            memory.trim_after(model.get_encoder().layer_norm)
            for layer in model.get_encoder().layers:  # a window's encoding takes seconds on whisper-small
                layer.register_forward_pre_hook(self._follow_free_cores)
            suppressed = model.generation_config.suppress_tokens or []
            model.generation_config.suppress_tokens = None  # applied by self._suppress instead
            self._suppress = SuppressTokens(suppressed, model.config.vocab_size, self.device) if suppressed else None
            self._aligner = Aligner.for_model(
                model, processor.tokenizer, processor.feature_extractor, load_dtype(self.precision)
            )
            mask = self._suppress.mask if self._suppress else None
            self._batched = decoding.BatchedWhisper(
                self.model_id, model, processor, mask, load_dtype(self.precision), self._aligner
            )
            self._set_status(ModelState.LOADING, f"Warming up {self.model_id}…")
            self._batched.run_window(
                Request(audio=np.zeros(SAMPLE_RATE, np.float32), options=Options(temperature=0)), decoding.Steps()
            )
            memory.trim()  # loading's float32 weights, freed on this thread: the inference thread never reuses them
            self._processor, self._model = processor, model
            self._set_status(ModelState.READY, f"{self.model_id} is ready ({self.precision} on {self.device.type}).")
        except ModelMissing as error:
            self._set_status(ModelState.MISSING, str(error))
        except Exception as error:  # any broken checkpoint must surface as a status, not kill the thread
            log.exception("loading %s failed", self.model_id)
            self._set_status(
                ModelState.ERROR,
                f"Could not load {self.model_id}: {error}. Check that it is a Whisper checkpoint.",
            )
        finally:
            self._loaded.set()

    def _follow_free_cores(self, *_: object) -> None:
        """A forward pre-hook (it must return None): the encoder's layers re-size the thread team too."""
        self._threads.adjust()

    # -- what the model can do ---------------------------------------------------
    @property
    def multilingual(self) -> bool:
        return is_multilingual(self._ready()[0])

    @property
    def languages(self) -> list[str]:
        """Language codes the loaded checkpoint knows (``en`` only for ``.en`` models)."""
        if not self.multilingual:
            return ["en"]
        return [token.strip("<|>") for token in self._ready()[0].generation_config.lang_to_id]

    def check(self, options: Options) -> Options:
        """Validate ``options`` against the loaded model; returns them normalised."""
        language = language_code(options.language) if options.language else None
        if language and language not in self.languages:
            known = ", ".join(self.languages[:12]) + (", …" if len(self.languages) > 12 else "")
            raise InvalidOptions(f"Unknown language '{options.language}'. This model knows: {known}")
        if options.task == "translate" and not self.multilingual:
            raise InvalidOptions(f"{self.model_id} is an English-only model and cannot translate.")
        if options.temperature is not None and not 0.0 <= options.temperature <= 1.0:
            raise InvalidOptions("temperature must be between 0 and 1.")
        if not 1 <= options.beam_size <= 10:
            raise InvalidOptions("beam_size must be between 1 and 10.")
        if options.labels_speakers:
            check_speakers(options)
        return replace(options, language=language, prompt=options.prompt or None)

    # -- transcription -----------------------------------------------------------
    def submit(self, request: Request) -> Future[Transcript]:
        """Queue ``request`` for the inference worker; its future gives the transcript, or raises
        ``Cancelled`` once ``request.cancel`` is set (a queued request is dropped, a running one stops
        at its next decoding step). ``Priority.LIVE`` work overtakes file jobs, even between the
        windows of a running one (``worker.py``)."""
        self._ready()
        request = replace(request, options=self.check(request.options))
        return self._worker.submit(self._transcribe, request, time.perf_counter(), priority=request.priority)

    def transcribe(self, audio: np.ndarray, options: Options = Options()) -> Transcript:
        """``audio`` transcribed with ``options``, waiting for the result."""
        return self.submit(Request(audio=audio, options=options)).result()

    def speech(self, audio: np.ndarray) -> Future[list[tuple[float, float]]]:
        """Queue the search for speech in ``audio`` (``vad.speech_spans``) at live priority. It runs on
        the inference thread, as all torch work does: torch on a second thread gives OpenMP a second
        team of threads, libgomp then has more threads than cores and puts them to sleep between
        parallel regions instead of spinning, and every decoding step slows down."""
        return self._worker.submit(vad.speech_spans, audio, priority=Priority.LIVE)

    def realign(
        self, clip: np.ndarray, start: float, end: float, text: str, language: str | None
    ) -> Future[tuple[Word, ...]]:
        """Queue the placing of ``text``'s words, a person's correction of the segment from ``start``
        to ``end`` s (``clip``: the audio from ``start`` on), inside that segment. It goes ahead of
        file jobs, as live updates do: a person is waiting. No words where the checkpoint has no
        alignment heads."""
        self._ready()
        if self._aligner is None:
            future: Future[tuple[Word, ...]] = Future()
            future.set_result(())
            return future
        return self._worker.submit(self._realign, clip, start, end, text, language, priority=Priority.LIVE)

    def label_speakers(
        self, audio: np.ndarray, segments: list[Segment], options: Options, whole: frozenset[int] = frozenset()
    ) -> Future[list[list[Segment]]]:
        """Queue the labelling of a finished transcript's ``segments`` (``audio``: its recording) with
        speakers as ``options`` ask: each segment's parts (``whole``: indices not to cut)."""
        check_speakers(options)
        return self._worker.submit(self._speakers, audio, segments, options, lambda: None, whole)

    def _speakers(
        self,
        audio: np.ndarray,
        segments: list[Segment],
        options: Options,
        check: Callable[[], None],
        whole: frozenset[int] = frozenset(),
    ) -> list[list[Segment]]:
        """Who says what (``diarization.py``): speech, voice prints over it, speakers, turns, segments."""
        if self._voices is None:
            self._voices = VoiceEncoder(voices.locate())
        count = None if options.speakers == SPEAKERS_AUTO else int(options.speakers)
        turns = speaker_turns(self._voices, audio, count, options.min_speakers, options.max_speakers, check)
        memory.trim()
        return diarization.label(segments, turns, whole)

    def _realign(self, clip: np.ndarray, start: float, end: float, text: str, language: str | None) -> tuple[Word, ...]:
        with torch.inference_mode():
            return self._aligner.realign(clip, start, end, text, language)

    @staticmethod
    def _segment_listener(processor: WhisperProcessor, length: float, on_segments: Segments | None):
        """Turns a window's raw segments (token ids, tensor times) into ``Segment``s for ``on_segments``."""
        if on_segments is None:
            return None

        def heard(raw: list[dict]) -> None:
            found = []
            for segment in raw:
                text = processor.tokenizer.decode(segment["tokens"].tolist(), skip_special_tokens=True).strip()
                if text:
                    start = min(round(float(segment["start"]), 3), length)
                    found.append(Segment(start, min(max(round(float(segment["end"]), 3), start), length), text))
            if found:
                on_segments(found)

        return heard

    def _ready(self) -> tuple[WhisperForConditionalGeneration, WhisperProcessor]:
        if self._model is None or self._processor is None:
            raise ModelNotReady(self._status)
        return self._model, self._processor

    def _transcribe(self, request: Request, queued: float) -> Transcript:
        waited = time.perf_counter() - queued
        self._ready()
        seconds = len(request.audio) / SAMPLE_RATE
        stop = StopWhenSet(request.cancel, self._stopping, every_step=self._threads.adjust)
        if stop.is_set():
            raise Cancelled("The transcription was cancelled before it started.")
        between_windows = self._worker.serve_live if request.priority is Priority.FILE else None
        steps = decoding.Steps(stop.check, between_windows)
        if decoding.chosen(self.long_form, request.options, seconds, self._batched):
            transcript = self._batched.run(request, steps)
        elif decoding.one_window(request.options, seconds, self._batched):
            if request.on_progress is not None:
                request.on_progress(0.0)
            transcript = self._batched.run_window(request, decoding.Steps(stop.check))
            if request.on_segments is not None and transcript.segments:
                request.on_segments([replace(s, words=()) for s in transcript.segments])
            if request.on_progress is not None:
                request.on_progress(1.0)
        else:
            transcript = self._run(request, stop, between_windows)
        if request.options.labels_speakers and transcript.segments:
            labelling = time.perf_counter()
            parts = self._speakers(request.audio, transcript.segments, request.options, stop.check)
            transcript.segments = [part for group in parts for part in group]
            transcript.timings["speakers"] = round(time.perf_counter() - labelling, 4)
        transcript.timings = {"queued": round(waited, 4), **transcript.timings}
        memory.trim()
        return transcript

    def _run(
        self, request: Request, stop: StopWhenSet, between_windows: Callable[[], None] | None = None
    ) -> Transcript:
        """The sequential long form and beam search: transformers' ``generate`` (``sequential.py``)."""
        model, processor = self._ready()
        audio, options, on_progress = request.audio, request.options, request.on_progress
        started = time.perf_counter()
        window_frames = 2 * model.config.max_source_positions
        features = log_mel(audio, processor.feature_extractor).to(self.device, load_dtype(self.precision))
        featured = time.perf_counter()

        def monitor(seek_and_total: torch.Tensor | None) -> None:
            stop.check()
            if between_windows is not None:
                between_windows()
            if on_progress is not None and seek_and_total is not None:
                seek, total = seek_and_total[0].tolist()
                on_progress(min(seek / max(total, 1), 1.0))

        multilingual = is_multilingual(model)
        generate: dict = {
            "return_timestamps": True,
            "return_segments": True,
            "condition_on_prev_tokens": False,
            "num_beams": options.beam_size,
            "monitor_progress": monitor,
        }
        language = options.language
        with torch.inference_mode():
            # One window: encode once and share it between language detection and decoding
            # (each would run the encoder, the most expensive step of a short dictation).
            source = {"input_features": features}
            if features.shape[-1] <= window_frames:
                source["encoder_outputs"] = model.get_encoder()(features)
            encoded = time.perf_counter()
            if multilingual:
                if language is None:
                    first = {"input_features": features[:, :, :window_frames]}
                    window = {"encoder_outputs": source["encoder_outputs"]} if "encoder_outputs" in source else first
                    lang_id = int(model.detect_language(**window, num_segment_frames=window_frames)[0])
                    language = processor.tokenizer.convert_ids_to_tokens(lang_id).strip("<|>")
                generate.update(language=language, task=options.task)
            else:
                language = "en"
            detected = time.perf_counter()
            if options.max_tokens:
                generate["max_new_tokens"] = options.max_tokens
            if options.prompt:
                generate["prompt_ids"] = processor.get_prompt_ids(options.prompt, return_tensors="pt").to(self.device)
            if options.temperature is None:
                generate.update(temperature=decoding.FALLBACK_TEMPERATURES, **FALLBACK_THRESHOLDS)
            else:
                generate["temperature"] = options.temperature
                generate["do_sample"] = options.temperature > 0
            generate["logits_processor"] = LogitsProcessorList([stop, *([self._suppress] if self._suppress else [])])
            torch.manual_seed(0)  # the temperature fallback samples: the same audio always gives the same text
            with model.listening(self._segment_listener(processor, len(audio) / SAMPLE_RATE, request.on_segments)):
                output = model.generate(**source, **generate)
        finished = time.perf_counter()
        if on_progress is not None:
            on_progress(1.0)

        length = len(audio) / SAMPLE_RATE
        tokenizer = processor.tokenizer
        decoded, tokens = [], []
        for segment in output["segments"][0]:
            ids = segment["tokens"].tolist()
            text = tokenizer.decode(ids, skip_special_tokens=True).strip()
            if text:
                tokens.extend(ids)
                start = min(round(float(segment["start"]), 3), length)
                end = min(max(round(float(segment["end"]), 3), start), length)
                decoded.append(Decoded(start, end, text, [t for t in ids if t < tokenizer.eos_token_id]))
        encoder_output = source["encoder_outputs"].last_hidden_state if "encoder_outputs" in source else None
        segments = self._words(features, audio, decoded, language, options, encoder_output, lambda: monitor(None))
        placed = time.perf_counter()
        return Transcript(
            text=tokenizer.decode(tokens, skip_special_tokens=True).strip(),
            language=language,
            duration=length,
            segments=segments,
            model=self.model_id,
            timings={
                "features": round(featured - started, 4),
                "encode": round(encoded - featured, 4),  # one window; longer audio encodes inside generate
                "language": round(detected - encoded, 4),
                "generate": round(finished - detected, 4),
                "words": round(placed - finished, 4),
                "total": round(placed - started, 4),
            },
        )

    def _words(
        self,
        features: torch.Tensor,
        audio: np.ndarray,
        decoded: list[Decoded],
        language: str | None,
        options: Options,
        encoded: torch.Tensor | None,
        between_windows: Callable[[], None],
    ) -> list[Segment]:
        """The segments with their words placed (``timing.py``) where the checkpoint has alignment
        heads and was asked to transcribe; a failure there costs the words, never the transcript."""
        plain = [Segment(d.start, d.end, d.text) for d in decoded]
        if self._aligner is None or not options.words or options.task != "transcribe" or not decoded:
            return plain
        try:
            with torch.inference_mode():
                return self._aligner.place(features, audio, decoded, language, encoded, between_windows)
        except Cancelled:
            raise
        except Exception:
            log.exception("placing the words in time failed; the transcript keeps its segments without them")
            return plain
