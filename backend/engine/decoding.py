"""Long audio cut at its pauses and decoded in batches: the recipe of faster-whisper's
``BatchedInferencePipeline`` and of WhisperX.

Silero VAD (``vad.py``) finds the speech; neighbouring stretches of it are packed into
chunks of at most one window (30 s), so every cut falls in a pause and no word straddles
two chunks. Each chunk is encoded on its own (on a CPU the encoder gains nothing from a
batch: its matrices are already 1500 frames tall) and the chunks are decoded together,
``batch_size`` at a time: one decoder step reads every weight once for all of them. A
chunk leaves the batch as soon as it has finished (transformers' ``generate`` would keep
computing it until the longest one is done). Decoding is OpenAI's: greedy with its
timestamp rules, and per chunk the temperature fallback (a chunk whose text loops or
whose words the model is unsure of is decoded again hotter) and the no-speech check.
The encoder output the cross-attention reads at every step is kept in bfloat16 on the
CPU: half the memory per chunk in the batch, and no slower (``attention.py``).

The sequential path (``sequential.py``) hears everything, speech or not, and supports beam
search; this one only what the VAD calls speech, decoded once. Each batch's segments are
handed to ``on_partial`` as they are done, so a job can resume after a crash from the
last finished chunk (``transcript.Partial``).

The same loop decodes audio of one window or less on its own (``run_window``: dictation
and live passes, without the VAD): it does less per token than ``generate``, whose steps go
through transformers' general cache and output bookkeeping (``decoder.py``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from transformers import WhisperForConditionalGeneration, WhisperProcessor
from transformers.modeling_outputs import BaseModelOutput

from backend.audio import SAMPLE_RATE
from backend.engine import encoder, memory, precision, vad
from backend.engine.decoder import StepDecoder
from backend.engine.features import log_mel
from backend.engine.timing import Aligner, Decoded
from backend.settings import LongForm
from backend.transcript import COMPRESSION_RATIO, Options, Partial, Request, Segment, Transcript, compression_ratio

#: OpenAI's temperature fallback: a window whose text loops or whose words the model is unsure of
#: is decoded again hotter.
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)

#: OpenAI's fallback thresholds, on the mean log-probability of the tokens and the probability
#: of "no speech" at the start (the one on the text itself: ``transcript.COMPRESSION_RATIO``).
LOGPROB = -1.0
NO_SPEECH = 0.6
#: What the cross-attention keys and values of the chunks in a batch may take; the batch
#: size follows from it (whisper-tiny: 8, whisper-base: 5, whisper-small and larger: 1).
#: More buys little: a step's time is mostly reading each chunk's keys and values, once per
#: chunk, so a larger batch mostly adds memory.
BATCH_BYTES = 96 * 1024 * 1024
MAX_BATCH = 8
#: A chunk ends this long before the window does. Speech up to the window's edge reads to
#: Whisper as speech cut off there: it opens a last segment and stops, leaving it to the next
#: window.
END_MARGIN = 2.0
#: Speech left after a chunk's last opening timestamp, from this long on, is decoded again.
MIN_TAIL = 1.0
#: Seconds between two of Whisper's timestamp tokens.
TIMESTAMP_SECONDS = 0.02
#: Decoding steps between two calls of ``between_windows`` (live updates may run there).
STEPS_BETWEEN_CALLS = 32


@dataclass(frozen=True)
class Steps:
    """What a decoding loop calls as it goes: ``check`` before every step (it raises ``Cancelled`` when
    the job is to stop, and re-sizes the thread team: ``threads.py``), ``between_windows`` between
    chunks and every few dozen steps (a file job lets waiting live passes run there)."""

    check: Callable[[], None] = lambda: None
    between_windows: Callable[[], None] | None = None


def temperatures(options: Options) -> tuple[float, ...]:
    """The temperatures to try in turn: the one asked for, or Whisper's fallback."""
    return FALLBACK_TEMPERATURES if options.temperature is None else (options.temperature,)


def batches(chunks: list[Chunk], size: int, first: int | None = None) -> list[list[Chunk]]:
    """``chunks`` in order, ``size`` at a time; the first batch holds ``first`` of them where given
    (a streamed answer's first text then comes after one chunk's work, not a whole batch's)."""
    head = min(first or size, size)
    return [chunks[:head], *(chunks[i : i + size] for i in range(head, len(chunks), size))] if chunks else []


@dataclass(frozen=True)
class Chunk:
    """Samples ``start``..``end`` of the recording: speech and the pauses inside it."""

    start: int
    end: int

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / SAMPLE_RATE


@dataclass
class Decoding:
    """One chunk's decoded tokens (no prefix, no end-of-text) and how sure the model was."""

    tokens: list[int]
    avg_logprob: float
    no_speech_prob: float


def chosen(long_form: LongForm, options: Options, seconds: float, batched: BatchedWhisper | None) -> bool:
    """Whether a transcription of ``seconds`` of audio goes through the batched path: when asked to,
    or on ``auto`` for audio longer than one window; never with beam search (greedy only here)."""
    if batched is None or options.beam_size > 1 or long_form is LongForm.SEQUENTIAL:
        return False
    return long_form is LongForm.BATCHED or seconds > batched.window


def one_window(options: Options, seconds: float, batched: BatchedWhisper | None) -> bool:
    """Whether a transcription not ``chosen`` for the batched path is decoded by ``BatchedWhisper.run_window``:
    greedy audio of one window or less. Its decoding loop is cheaper per token than transformers'
    ``generate``, which keeps beam search and the sequential long form."""
    return batched is not None and options.beam_size == 1 and seconds <= batched.window


def batch_size(model: WhisperForConditionalGeneration) -> int:
    """How many chunks decode together within ``BATCH_BYTES`` of cross-attention cache."""
    config = model.config
    per_chunk = 2 * config.decoder_layers * config.max_source_positions * config.d_model * 2
    return max(1, min(MAX_BATCH, BATCH_BYTES // per_chunk))


class Rules:
    """OpenAI's rules for the next token, for a batch at once: the checkpoint's suppressed tokens,
    no blank or end at the start, and the timestamp grammar (a segment opens and closes with a
    timestamp, timestamps never go back, the first within ``max_initial`` steps of 20 ms)."""

    def __init__(
        self,
        suppress: torch.Tensor | None,
        begin_suppress: list[int],
        timestamp_begin: int,
        end_of_text: int,
        no_timestamps: int,
        max_initial: int,
        vocab_size: int,
        device: torch.device,
    ) -> None:
        self.suppress = suppress
        self.begin_suppress = [t for t in begin_suppress if 0 <= t < vocab_size]
        self.timestamp_begin, self.end_of_text, self.no_timestamps = timestamp_begin, end_of_text, no_timestamps
        self.max_initial = max_initial
        self.stamps = torch.arange(vocab_size - timestamp_begin, device=device)  # timestamp k is token begin + k

    def apply(self, logits: torch.Tensor, tokens: torch.Tensor, latest: torch.Tensor) -> torch.Tensor:
        """``logits`` (batch × vocabulary) masked in place; ``tokens`` are those decoded so far
        (batch × steps), ``latest`` each row's last timestamp token (-1 for none yet). The masks are
        written on row and column slices: the whole vocabulary is only read, once, for its mass."""
        begin, inf = self.timestamp_begin, -math.inf
        if self.suppress is not None:
            logits.masked_fill_(self.suppress, inf)
        logits[:, self.no_timestamps] = inf
        if tokens.shape[1] == 0:
            logits[:, self.begin_suppress] = inf
            logits[:, :begin] = inf
            logits[:, begin + self.max_initial + 1 :] = inf
        else:
            last = tokens[:, -1] >= begin
            before = tokens[:, -2] >= begin if tokens.shape[1] > 1 else torch.ones_like(last)
            closing = last & ~before  # a timestamp just closed or opened a segment: the next one pairs it
            logits[last & before, begin:] = inf
            logits[closing, : self.end_of_text] = inf
            floor = torch.where(closing, latest, latest + 1) - begin  # timestamps never go back
            logits[:, begin:].masked_fill_((self.stamps < floor[:, None]) & (latest >= 0)[:, None], inf)
        timestamp_mass = logits[:, begin:].float().logsumexp(dim=-1)  # both sides share one normaliser
        best_text = logits[:, :begin].float().max(dim=-1).values
        logits[timestamp_mass > best_text, :begin] = inf
        return logits


class BatchedWhisper:
    """Decodes chunks of one window or less, several at a time, with a loaded Whisper."""

    def __init__(
        self,
        model_id: str,
        model: WhisperForConditionalGeneration,
        processor: WhisperProcessor,
        suppress: torch.Tensor | None,
        dtype: torch.dtype,
        aligner: Aligner | None,
    ) -> None:
        self.model_id, self.model, self.processor, self.dtype, self.aligner = model_id, model, processor, dtype, aligner
        config = model.generation_config
        self.multilingual = bool(getattr(config, "is_multilingual", False) and getattr(config, "lang_to_id", None))
        self.window_frames = 2 * model.config.max_source_positions
        self.window = self.window_frames * processor.feature_extractor.hop_length / SAMPLE_RATE
        self.end_of_text = int(config.eos_token_id)
        self.start_of_transcript = int(config.decoder_start_token_id)
        self.no_timestamps = int(config.no_timestamps_token_id)
        self.timestamp_begin = self.no_timestamps + 1
        self.no_speech = self.no_timestamps - 1  # <|nospeech|>, as transformers finds it
        half = model.config.max_target_positions // 2  # openai-whisper's limit for the text and for the prompt
        self.max_new_tokens, self.max_prompt = min(half, config.max_new_tokens or half), half - 1
        self.batch_size = batch_size(model)
        self.rules = Rules(
            suppress,
            list(config.begin_suppress_tokens or []),
            self.timestamp_begin,
            self.end_of_text,
            self.no_timestamps,
            int(getattr(config, "max_initial_timestamp_index", None) or 50),
            model.config.vocab_size,
            model.device,
        )

    # -- the whole recording -----------------------------------------------------------------
    def run(self, request: Request, steps: Steps) -> Transcript:
        """The transcript of ``request.audio``: its segments with their words where asked, and the
        language (detected on the first chunk unless the options name it).

        After each batch ``request.on_progress`` hears the fraction done, ``on_segments`` the new
        segments and ``on_partial`` all that is done; ``request.resume`` is what an earlier run had
        done (another model's work starts over)."""
        steps.check()
        started = time.perf_counter()
        audio, options, resume = request.audio, request.options, request.resume
        decoded: list[Decoded] = []
        segments: list[Segment] = []
        spoken, done_until = options.language, 0.0
        if resume is not None and resume.model == self.model_id:
            decoded = [Decoded(s.start, s.end, s.text, list(t)) for s, t in zip(resume.segments, resume.tokens)]
            segments, spoken, done_until = list(resume.segments), resume.language, resume.until
            if request.on_segments is not None and segments:
                request.on_segments(list(segments))
        total = max(len(audio), 1)
        if request.on_progress is not None:
            request.on_progress(min(done_until * SAMPLE_RATE / total, 1.0))
        todo = [c for c in self.chunks(audio) if c.end / SAMPLE_RATE > done_until + 1e-3]
        with torch.inference_mode():
            for batch in batches(todo, self.batch_size, first=1 if request.stream else None):
                pieces, heard, spoken = self.decode_chunks(request, batch, spoken, steps)
                decoded += pieces
                segments += heard
                memory.trim()  # the batch's buffers, freed: the next batch's come from the system again
                if request.on_segments is not None and heard:
                    request.on_segments(heard)
                done_until = batch[-1].end / SAMPLE_RATE
                if request.on_partial is not None:
                    request.on_partial(Partial.of(self.model_id, spoken, done_until, decoded, segments))
                if request.on_progress is not None:
                    request.on_progress(min(batch[-1].end / total, 1.0))
        if request.on_progress is not None:
            request.on_progress(1.0)
        spent = round(time.perf_counter() - started, 4)
        return self.as_transcript(audio, decoded, segments, spoken, {"batched": spent, "total": spent})

    def run_window(self, request: Request, steps: Steps) -> Transcript:
        """``audio`` (one window or less) decoded on its own, without the VAD: a live pass, or a short
        dictation. With ``options.short_context`` only the audio's part of the window is encoded
        (``encoder.py``) and no words are placed (the aligner reads whole windows); at most
        ``options.max_tokens`` tokens are decoded. Where the decoding stops at an opening timestamp
        with speech left after it, the rest is decoded again from there, as the batched path does."""
        steps.check()
        audio, options = request.audio, request.options
        started = time.perf_counter()
        spent = dict.fromkeys(("encode", "generate", "words"), 0.0)
        decoded: list[Decoded] = []
        segments: list[Segment] = []
        language, first = options.language, 0
        words = replace(options, words=options.words and not options.short_context)
        with torch.inference_mode():
            while first < len(audio):
                clock = time.perf_counter()
                clip = audio[first:]
                features, hidden = self.encode(clip, options.short_context)
                language = language or self.detect(hidden)
                spent["encode"] += time.perf_counter() - clock
                clock = time.perf_counter()
                prefix = self.prefix(options, language)
                draft = self.draft(options.draft) if first == 0 else None
                (result,) = self.decode(hidden, prefix, temperatures(options), steps, options.max_tokens, draft)
                pieces, rest = self.segments(result.tokens, Chunk(first, len(audio))) if result else ([], None)
                offset = first / SAMPLE_RATE
                decoded += [replace(p, start=p.start + offset, end=p.end + offset) for p in pieces]
                spent["generate"] += time.perf_counter() - clock
                clock = time.perf_counter()
                segments += self.words(features, clip, pieces, language, words, hidden, offset, None)
                spent["words"] += time.perf_counter() - clock
                if rest is None:
                    break
                first += round(rest * SAMPLE_RATE)
        timings = {**{k: round(v, 4) for k, v in spent.items()}, "total": round(time.perf_counter() - started, 4)}
        return self.as_transcript(audio, decoded, segments, language, timings)

    def as_transcript(
        self,
        audio: np.ndarray,
        decoded: list[Decoded],
        segments: list[Segment],
        language: str | None,
        timings: dict[str, float],
    ) -> Transcript:
        """The ``Transcript`` of ``audio``: its text from the decoded tokens, its segments as placed."""
        tokens = [token for piece in decoded for token in piece.tokens]
        return Transcript(
            text=self.processor.tokenizer.decode(tokens, skip_special_tokens=True).strip(),
            language=language if self.multilingual else "en",
            duration=len(audio) / SAMPLE_RATE,
            segments=segments,
            model=self.model_id,
            timings=timings,
        )

    def encode(self, audio: np.ndarray, short: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The log-mel features of ``audio``'s first window and the encoder's output: over the whole
        window, or (``short``) only over the audio's part of it (``encoder.py``)."""
        features = log_mel(audio, self.processor.feature_extractor)[:, :, : self.window_frames]
        features = features.to(self.model.device, self.dtype)
        if short:
            frames = encoder.context_frames(len(audio) / SAMPLE_RATE, self.window_frames)
            return features, encoder.encode(self.model.get_encoder(), features, frames).last_hidden_state
        return features, self.model.get_encoder()(features).last_hidden_state

    def detect(self, hidden: torch.Tensor) -> str:
        """The language spoken in a chunk, from its encoder output ("en" for English-only models)."""
        if not self.multilingual:
            return "en"
        encoded = BaseModelOutput(last_hidden_state=hidden)
        found = int(self.model.detect_language(encoder_outputs=encoded, num_segment_frames=self.window_frames)[0])
        return self.processor.tokenizer.convert_ids_to_tokens(found).strip("<|>")

    def chunks(self, audio: np.ndarray) -> list[Chunk]:
        """The recording's speech packed into chunks that each end in a pause."""
        return [Chunk(start, end) for start, end in vad.windows(audio, self.window - END_MARGIN)]

    def decode_chunks(
        self, request: Request, chunks: list[Chunk], language: str | None, steps: Steps
    ) -> tuple[list[Decoded], list[Segment], str | None]:
        """``chunks`` decoded together: their segments in the recording's time, as decoded and with
        their words, and the language (detected on the first chunk if not given). A chunk whose
        decoding stops at an opening timestamp with speech left after it (Whisper's "this runs on
        past the window") has the rest decoded as a chunk of its own, as the sequential path would."""
        audio, options = request.audio, request.options
        features, hidden = [], []
        for chunk in chunks:
            steps.check()
            if steps.between_windows is not None:
                steps.between_windows()
            window, encoded = self.encode(audio[chunk.start : chunk.end], short=False)
            features.append(window)
            hidden.append(encoded)
        if language is None:
            language = self.detect(hidden[0])
        with precision.alike_rows():  # each chunk decodes alike whatever else is in the batch
            results = self.decode(torch.cat(hidden), self.prefix(options, language), temperatures(options), steps)
        decoded: list[Decoded] = []
        segments: list[Segment] = []
        tails: list[Chunk] = []
        for chunk, window, encoded, result in zip(chunks, features, hidden, results, strict=True):
            if result is None:
                continue
            offset = chunk.start / SAMPLE_RATE
            pieces, rest = self.segments(result.tokens, chunk)
            decoded += [replace(p, start=p.start + offset, end=p.end + offset) for p in pieces]
            clip = audio[chunk.start : chunk.end]
            segments += self.words(window, clip, pieces, language, options, encoded, offset, steps.between_windows)
            if rest is not None:
                tails.append(Chunk(chunk.start + round(rest * SAMPLE_RATE), chunk.end))
        del features, hidden
        if tails:
            more, heard, _ = self.decode_chunks(request, tails, language, steps)
            decoded = sorted(decoded + more, key=lambda piece: piece.start)
            segments = sorted(segments + heard, key=lambda segment: segment.start)
        return decoded, segments, language

    def prefix(self, options: Options, language: str | None) -> list[int]:
        """The decoder's first tokens: the prompt (as ``<|startofprev|>`` text, at most half the
        context), then start, language and task where the model has them."""
        config = self.model.generation_config
        tokens = [self.start_of_transcript]
        if language is not None and getattr(config, "lang_to_id", None):
            tokens += [int(config.lang_to_id[f"<|{language}|>"]), int(config.task_to_id[options.task])]
        if options.prompt:
            prompt = [int(t) for t in self.processor.get_prompt_ids(options.prompt, return_tensors="np")]
            tokens = [prompt[0], *prompt[1:][-self.max_prompt :], *tokens]
        return tokens

    def draft(self, segments: tuple[Segment, ...]) -> list[int]:
        """The tokens that would have decoded ``segments`` (times from the window's start): each
        segment's text between its two timestamps, as Whisper writes them."""
        tokenizer, last = self.processor.tokenizer, self.model.config.vocab_size - 1
        stamp = lambda seconds: min(last, self.timestamp_begin + round(seconds / TIMESTAMP_SECONDS))  # noqa: E731
        tokens = []
        for segment in segments:
            opened, closed = stamp(segment.start), stamp(segment.end)
            tokens += [opened, *tokenizer.encode(" " + segment.text.strip(), add_special_tokens=False), closed]
        return tokens

    def segments(self, tokens: list[int], chunk: Chunk) -> tuple[list[Decoded], float | None]:
        """A chunk's tokens cut into segments at its timestamps (times from the chunk's start), as
        openai-whisper cuts a window, and where the rest of the chunk is to be decoded again, if
        anywhere: after an opening timestamp that nothing followed, with ``MIN_TAIL`` or more of the
        chunk left. Text after the last closing timestamp is kept (the chunk ends in a pause, so it
        is not cut off) and ends with the chunk."""
        tokenizer = self.processor.tokenizer
        begin, precision = self.timestamp_begin, TIMESTAMP_SECONDS
        length = math.floor(chunk.seconds * 1000) / 1000  # times are kept to the ms: none may pass the end
        pieces: list[Decoded] = []
        opened: float | None = None
        text: list[int] = []

        def close(start: float, end: float) -> None:
            words = tokenizer.decode(text, skip_special_tokens=True).strip()
            if words:
                start = min(start, length)
                pieces.append(Decoded(start, min(max(end, start), length), words, list(text)))

        for token in tokens:
            if token < begin:
                if token < self.end_of_text:
                    text.append(token)
                continue
            seconds = (token - begin) * precision
            if opened is None:
                opened = seconds
            elif text:
                close(opened, seconds)
                opened, text = None, []
            else:
                opened = seconds
        if text:
            close(opened or 0.0, length)
        elif opened is not None and 0 < opened <= length - MIN_TAIL:  # at 0 a second try would say the same
            return pieces, opened
        return pieces, None

    def words(
        self,
        features: torch.Tensor,
        audio: np.ndarray,
        pieces: list[Decoded],
        language: str | None,
        options: Options,
        encoded: torch.Tensor,
        offset: float,
        between_windows: Callable[[], None] | None,
    ) -> list[Segment]:
        """A chunk's segments in the recording's time, with their words placed where asked
        (from the chunk's own encoder output: no second encoder pass)."""
        plain = [Segment(p.start, p.end, p.text) for p in pieces]
        if self.aligner is not None and options.words and options.task == "transcribe" and pieces:
            plain = self.aligner.place(features, audio, pieces, language, encoded, between_windows)
        return [shifted(segment, offset) for segment in plain]

    # -- a batch of chunks -------------------------------------------------------------------
    def decode(
        self,
        hidden: torch.Tensor,
        prefix: list[int],
        temperatures: tuple[float, ...],
        steps: Steps,
        most: int | None = None,
        draft: list[int] | None = None,
    ) -> list[Decoding | None]:
        """Each chunk's decoding (``None`` where the model hears no speech), falling back to the next
        temperature for the chunks whose text loops or is too unsure. Where every temperature fails,
        the likeliest decoding whose text does not loop is kept (else the likeliest of all), as
        faster-whisper does: the last, hottest one is often made-up text, worse than a plain repeat."""
        results: list[Decoding | None] = [None] * hidden.shape[0]
        failed: dict[int, list[tuple[bool, Decoding]]] = {}
        pending = list(range(hidden.shape[0]))
        for temperature in temperatures:
            decodings = self.greedy(hidden[pending], prefix, temperature, steps, most, draft)
            retry = []
            for index, decoding in zip(pending, decodings, strict=True):
                text = self.processor.tokenizer.decode(decoding.tokens, skip_special_tokens=True)
                unsure = decoding.avg_logprob < LOGPROB
                if len(temperatures) > 1 and unsure and decoding.no_speech_prob > NO_SPEECH:
                    results[index] = None  # silence the VAD let through
                    continue
                loops = compression_ratio(text) > COMPRESSION_RATIO
                if loops or unsure:
                    failed.setdefault(index, []).append((not loops, decoding))
                    retry.append(index)
                else:
                    results[index] = decoding
            if not retry:
                break
            pending = retry
        else:
            for index in pending:
                results[index] = max(failed[index], key=lambda tried: (tried[0], tried[1].avg_logprob))[1]
        return results

    def cross_attention_dtype(self, hidden: torch.Tensor) -> torch.dtype:
        """How the decoder's cross-attention keys and values are kept: bfloat16 for whole windows on
        the CPU (read at every step, they are the bulk of a step's memory traffic: 55 MB a window for
        whisper-small), the model's own for a live pass's shorter context, where bfloat16's matmuls
        are slower on the CPU than float32's."""
        whole = hidden.shape[1] * 2 == self.window_frames
        return torch.bfloat16 if hidden.device.type == "cpu" and whole else hidden.dtype

    def greedy(
        self,
        hidden: torch.Tensor,
        prefix: list[int],
        temperature: float,
        steps: Steps,
        most: int | None = None,
        draft: list[int] | None = None,
    ) -> list[Decoding]:
        """Decode each row of ``hidden`` (encoder outputs) after ``prefix``: the most likely token,
        or one sampled at ``temperature`` > 0, until end-of-text or the length limit (``most``
        tokens, if fewer).

        ``draft``: tokens the decoding is expected to begin with (one row, greedy only): they go
        through the decoder in the prompt's call and are taken for as long as each is the token the
        model picks after the ones before it, so the result is the greedy decoding's all the same;
        from the first the model parts from, decoding goes on step by step. A live pass decodes
        the text the previous pass heard again: that text is its draft (speculative decoding, the
        previous hypothesis as the guess)."""
        rows = hidden.shape[0]
        device = hidden.device
        limit = min(self.max_new_tokens, most or self.max_new_tokens)
        draft = list(draft or [])[:limit] if rows == 1 and temperature == 0 else []
        project = self.model.get_output_embeddings()
        decoder = StepDecoder(self.model.get_decoder(), hidden, self.cross_attention_dtype(hidden))
        ids = torch.tensor([prefix + draft], device=device).expand(rows, -1)
        states = decoder(ids)
        start = prefix.index(self.start_of_transcript)
        no_speech = project(states[:, start]).float().softmax(-1)[:, self.no_speech].tolist()
        guesses = project(states[:, len(prefix) - 1 :]).float()  # the next token's logits after each draft token
        logits = guesses[:, 0]
        active = torch.arange(rows, device=device)  # the rows still decoding, by their index in ``hidden``
        tokens = torch.empty(rows, 0, dtype=torch.long, device=device)
        latest = torch.full((rows,), -1, dtype=torch.long, device=device)
        sum_logprob = torch.zeros(rows, dtype=torch.float64, device=device)
        finished: dict[int, list[int]] = {}
        for step in range(limit):
            steps.check()
            if steps.between_windows is not None and step and step % STEPS_BETWEEN_CALLS == 0:
                steps.between_windows()
            logits = self.rules.apply(logits, tokens, latest)
            if temperature > 0:
                chosen = torch.distributions.Categorical(logits=logits / temperature).sample()
            else:
                chosen = logits.argmax(dim=-1)
            picked = logits.gather(1, chosen[:, None])[:, 0] - logits.logsumexp(dim=-1)
            sum_logprob[active] += picked.double()
            tokens = torch.cat([tokens, chosen[:, None]], dim=1)
            latest = torch.where(chosen >= self.timestamp_begin, chosen, latest)
            done = chosen == self.end_of_text
            if step == limit - 1:
                done[:] = True
            if bool(done.any()):
                for row in torch.nonzero(done)[:, 0].tolist():
                    finished[int(active[row])] = [t for t in tokens[row].tolist() if t != self.end_of_text]
                keep = torch.nonzero(~done)[:, 0]
                if keep.numel() == 0:
                    break
                decoder.keep(keep)
                active, tokens, latest, chosen = active[keep], tokens[keep], latest[keep], chosen[keep]
            if step < len(draft):
                if int(chosen[0]) == draft[step]:  # already in the cache, and what follows it computed
                    logits = guesses[:, step + 1]
                    continue
                decoder.rewind(len(prefix) + step)  # the model parts from the draft here
                draft = []
            states = decoder(chosen[:, None])
            logits = project(states[:, -1]).float()
        return [
            Decoding(finished[row], float(sum_logprob[row]) / (len(finished[row]) + 1), no_speech[row])
            for row in range(rows)
        ]


def shifted(segment: Segment, offset: float) -> Segment:
    """``segment`` (and its words) ``offset`` seconds later."""
    words = tuple(replace(w, start=round(w.start + offset, 3), end=round(w.end + offset, 3)) for w in segment.words)
    return replace(segment, start=round(segment.start + offset, 3), end=round(segment.end + offset, 3), words=words)
