"""Word timing: each word of a transcript placed in time by Whisper's own alignment heads.

A few of Whisper's cross-attention heads (the checkpoint's ``alignment_heads``) look at
the audio being spoken as each token is predicted. After decoding, one more decoder pass
per 30 s window over the finished text captures those heads' queries and keys, and
openai-whisper's recipe turns them into words: softmax over the window's real frames,
each head normalised over the tokens, a median filter along time, dynamic time warping of
the tokens onto the 20 ms encoder frames, a word's start at its first token's frame, and
openai-whisper's fixes for long words at sentence and segment borders. Then Hush checks
the result against the audio itself: a word never starts inside a pause (where speech
resumes inside the word, the word starts there) and words never overlap.

transformers' ``return_token_timestamps`` does the same inside ``generate``, but it
switches the model to eager attention for good (``_attn_implementation = "eager"``),
keeps every head's weights at every decoding step and warps with a Python double loop;
one extra pass over the finished text costs a fraction of that (``benchmarks/words.py``).
The same pass places the words of a person's correction (forced alignment).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import pairwise

import numpy as np
import torch
import torch.nn.functional as F
from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration, WhisperTokenizer
from transformers.models.whisper.tokenization_whisper import _split_tokens_on_spaces, _split_tokens_on_unicode

from backend.audio import SAMPLE_RATE
from backend.engine.features import log_mel
from backend.transcript import Segment, Word

#: One encoder frame (two 10 ms mel frames): the resolution of the timing.
FRAME_SECONDS = 0.02
MEL_FRAMES_PER_SECOND = 100
MEDIAN_WIDTH = 7
#: Windows of the median filter sorted at once (12 MB of values and indices).
MEDIAN_BLOCK = 1 << 20
#: Rows of logits (tokens) whose probabilities are worked out at once (3 MB for Whisper's vocabulary).
SOFTMAX_ROWS = 16
#: Languages written without spaces, whose words are single characters (openai-whisper's list).
UNSPACED = {"zh", "ja", "th", "lo", "my", "yue"}
PREPENDED = "\"'“¡¿([{-"
APPENDED = "\"'.。,，!！?？:：”)]}、"
SENTENCE_ENDS = ".。!！?？"
#: A window starts this long before its first segment: speech may begin before the model's timestamp.
LEAD_SECONDS = 1.0
#: A frame this far below the speech's loudness (its 90th percentile) is silent ...
PAUSE_DB = -45.0
#: ... and this many seconds of silent frames in a row are a pause, where no word may start.
MIN_PAUSE_SECONDS = 0.15
#: Loudness (RMS, full scale 1.0) below which a frame is silent whatever the speech around it.
SILENCE_FLOOR = 1e-4


@dataclass
class Decoded:
    """A segment as the model decoded it: its times in seconds, its text and its text tokens."""

    start: float
    end: float
    text: str
    tokens: list[int]


@dataclass
class Timing:
    """A word while its times are worked out (seconds); ``word`` keeps its leading space."""

    word: str
    tokens: list[int]
    start: float
    end: float
    probability: float


class Pauses:
    """Where the audio is silent for at least ``MIN_PAUSE_SECONDS``, judged by the loudness of 20 ms frames
    relative to the speech in it (a quiet recording's pauses are as clear as a loud one's). A pause ends
    at the first sample loud enough, to the millisecond: where a word after it may start."""

    BLOCK_FRAMES = 3000  # one minute of frames at a time: flat memory for hours of audio

    def __init__(self, audio: np.ndarray, offset: float = 0.0) -> None:
        """The pauses of ``audio``, which starts ``offset`` seconds into the recording."""
        size = round(FRAME_SECONDS * SAMPLE_RATE)
        count = len(audio) // size
        loudness = np.empty(count, np.float32)
        for first in range(0, count, self.BLOCK_FRAMES):
            last = min(first + self.BLOCK_FRAMES, count)
            block = audio[first * size : last * size].reshape(last - first, size)
            loudness[first:last] = np.sqrt(np.mean(np.square(block, dtype=np.float32), axis=1))
        heard = loudness[loudness > SILENCE_FLOOR]
        speech = float(np.percentile(heard, 90)) if heard.size else 0.0
        threshold = max(SILENCE_FLOOR, speech * 10 ** (PAUSE_DB / 20))
        silent = np.concatenate([[False], loudness < threshold, [False]])
        runs = np.flatnonzero(np.diff(silent.astype(np.int8))).reshape(-1, 2)
        runs = runs[runs[:, 1] - runs[:, 0] >= round(MIN_PAUSE_SECONDS / FRAME_SECONDS)]
        self.spans = np.array(
            [(first * FRAME_SECONDS, self.resumes(audio, last * size, threshold)) for first, last in runs]
        )
        self.spans = self.spans.reshape(-1, 2) + offset

    @staticmethod
    def resumes(audio: np.ndarray, sample: int, threshold: float) -> float:
        """The time (rounded up to the millisecond) of the first sample from ``sample`` on as loud as ``threshold``."""
        loud = np.flatnonzero(np.abs(audio[sample : sample + round(FRAME_SECONDS * SAMPLE_RATE)]) >= threshold)
        return math.ceil((sample + (int(loud[0]) if loud.size else 0)) * 1000 / SAMPLE_RATE) / 1000

    def around(self, seconds: float) -> tuple[float, float] | None:
        """The pause ``seconds`` falls in (from its first silent frame to where speech resumes), if any."""
        index = int(np.searchsorted(self.spans[:, 0], seconds, side="right")) - 1
        if index >= 0 and seconds < self.spans[index, 1]:
            return float(self.spans[index, 0]), float(self.spans[index, 1])
        return None


class Aligner:
    """Places in the audio the words of decoded segments, or of a person's corrected text."""

    def __init__(
        self,
        model: WhisperForConditionalGeneration,
        tokenizer: WhisperTokenizer,
        extractor: WhisperFeatureExtractor,
        heads: list[tuple[int, int]],
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.model, self.tokenizer, self.extractor, self.heads = model, tokenizer, extractor, heads
        self.dtype = dtype  # of the encoder's input
        config = model.generation_config
        self.end_of_text = int(config.eos_token_id)
        self.languages: dict[str, int] = dict(getattr(config, "lang_to_id", None) or {})
        self.transcribe = (getattr(config, "task_to_id", None) or {}).get("transcribe")
        self.sequence_start = [int(config.decoder_start_token_id)]
        self.no_timestamps = int(config.no_timestamps_token_id)
        self.window_frames = 2 * model.config.max_source_positions  # mel frames: 3000 = 30 s
        self.max_tokens = model.config.max_target_positions

    @classmethod
    def for_model(
        cls,
        model: WhisperForConditionalGeneration,
        tokenizer: WhisperTokenizer,
        extractor: WhisperFeatureExtractor,
        dtype: torch.dtype = torch.float32,
    ) -> Aligner | None:
        """An aligner for ``model``, or ``None`` where its checkpoint names no alignment heads:
        then the transcripts simply have no words (never made-up ones)."""
        config = model.config
        heads = [
            (int(layer), int(head))
            for layer, head in getattr(model.generation_config, "alignment_heads", None) or []
            if 0 <= layer < config.decoder_layers and 0 <= head < config.decoder_attention_heads
        ]
        return cls(model, tokenizer, extractor, heads, dtype) if heads else None

    def prefix(self, language: str | None) -> list[int] | None:
        """The tokens before the text: start, language and task where the model has them, no timestamps.
        ``None`` for a language the model does not know."""
        if not self.languages:
            return [*self.sequence_start, self.no_timestamps]
        language_token = self.languages.get(f"<|{language}|>")
        if language_token is None or self.transcribe is None:
            return None
        return [*self.sequence_start, language_token, self.transcribe, self.no_timestamps]

    # -- a transcript's words -----------------------------------------------------------------
    def place(
        self,
        features: torch.Tensor,
        audio: np.ndarray,
        segments: list[Decoded],
        language: str | None,
        encoded: torch.Tensor | None = None,
        between_windows: Callable[[], None] | None = None,
    ) -> list[Segment]:
        """``segments`` with their words, each segment spanning its words.

        ``features`` is the whole log-mel spectrogram, ``encoded`` the encoder's output for
        audio of one window (reused instead of encoding it again); ``between_windows`` is
        called before each window (to stop when cancelled, to let live work in)."""
        prefix = self.prefix(language)
        if prefix is None:
            return [Segment(s.start, s.end, s.text) for s in segments]
        audio_frames = len(audio) * MEL_FRAMES_PER_SECOND // SAMPLE_RATE
        placed: list[tuple[Decoded, list[Timing]]] = []
        last_speech = 0.0
        for group, first_frame in self.windows(segments, audio_frames, len(prefix)):
            if between_windows is not None:
                between_windows()
            window = features[:, :, first_frame : first_frame + self.window_frames]
            if encoded is None or first_frame or window.shape[-1] != encoded.shape[1] * 2:
                window = F.pad(window, (0, self.window_frames - window.shape[-1]))
                hidden = self.model.get_encoder()(window).last_hidden_state
            else:
                hidden = encoded
            frames = min(self.window_frames, audio_frames - first_frame) // 2
            tokens = [token for segment in group for token in segment.tokens]
            timings = self.timings(hidden, prefix, tokens, frames, language)
            words, last_speech = settle(timings, group, first_frame / MEL_FRAMES_PER_SECOND, last_speech)
            placed.extend(zip(group, words, strict=True))
        return finish(placed, Pauses(audio))

    def windows(
        self, segments: list[Decoded], audio_frames: int, prefix_length: int
    ) -> list[tuple[list[Decoded], int]]:
        """The segments in groups that fit one encoder window (and the decoder's length), each with the
        mel frame its window starts at; audio of one window is one group from its start."""
        budget = self.max_tokens - prefix_length - 1
        groups: list[tuple[list[Decoded], int]] = []
        for segment in segments:
            if groups:
                group, first = groups[-1]
                fits = segment.end * MEL_FRAMES_PER_SECOND <= first + self.window_frames
                if fits and sum(len(s.tokens) for s in group) + len(segment.tokens) <= budget:
                    group.append(segment)
                    continue
            first = 0 if audio_frames <= self.window_frames else round((segment.start - LEAD_SECONDS) * 100)
            groups.append(([segment], max(0, min(first, audio_frames - 1))))
        return groups

    # -- a correction's words -------------------------------------------------------------------
    def realign(self, clip: np.ndarray, start: float, end: float, text: str, language: str | None) -> tuple[Word, ...]:
        """The words of ``text``, a person's correction of the segment from ``start`` to ``end`` s, placed
        inside that segment; ``clip`` is the recording from ``start`` on. None where they cannot be
        placed (a language the model does not know, a text too long for the decoder, a clip too short)."""
        prefix = self.prefix(language)
        tokens = self.tokenizer.encode(" " + text.strip(), add_special_tokens=False)
        if prefix is None or not tokens or len(prefix) + len(tokens) + 1 > self.max_tokens:
            return ()
        clip = clip[: self.window_frames * SAMPLE_RATE // MEL_FRAMES_PER_SECOND]
        span = min(round((end - start) * MEL_FRAMES_PER_SECOND), len(clip) * MEL_FRAMES_PER_SECOND // SAMPLE_RATE)
        if span < 2 * MEDIAN_WIDTH:
            return ()
        features = log_mel(clip, self.extractor).to(self.model.device, self.dtype)
        hidden = self.model.get_encoder()(features).last_hidden_state
        segment = Decoded(start, end, text, tokens)
        words, _ = settle(self.timings(hidden, prefix, tokens, span // 2, language), [segment], start, start)
        return finish([(segment, words[0])], Pauses(clip, start), keep_times=True)[0].words

    # -- openai-whisper's find_alignment ---------------------------------------------------------
    def timings(
        self, encoded: torch.Tensor, prefix: list[int], tokens: list[int], frames: int, language: str | None
    ) -> list[Timing]:
        """The words of ``tokens`` with times in seconds from the window's start, from the alignment
        heads' attention over the window's first ``frames`` encoder frames."""
        if not tokens or frames < 2:
            return []
        ids = torch.tensor([[*prefix, *tokens, self.end_of_text]], device=encoded.device)
        scores, hidden = self.attend(encoded, ids)
        rows = slice(len(prefix) - 1, len(prefix) + len(tokens))  # those predicting each text token and the end
        probabilities = self.probabilities(hidden[rows][:-1], tokens)
        weights = scores[:, :, :frames].softmax(-1)
        deviation, mean = torch.std_mean(weights, dim=-2, keepdim=True, unbiased=False)
        weights = median_filter((weights - mean) / deviation.clamp_min(1e-9), MEDIAN_WIDTH)
        token_rows, time_columns = dtw(-weights.mean(0)[rows].double().cpu().numpy())

        words, word_tokens = self.split([*tokens, self.end_of_text], language)
        if len(word_tokens) <= 1:
            return []
        boundaries = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
        jumps = np.pad(np.diff(token_rows), (1, 0), constant_values=1).astype(bool)
        jump_times = time_columns[jumps] * FRAME_SECONDS
        return [
            Timing(word, list(ids_), float(jump_times[i]), float(jump_times[j]), float(probabilities[i:j].mean()))
            for word, ids_, i, j in zip(words[:-1], word_tokens[:-1], boundaries[:-1], boundaries[1:], strict=True)
        ]

    def probabilities(self, states: torch.Tensor, tokens: list[int]) -> np.ndarray:
        """The probability the model gave each of ``tokens`` among the text tokens, from the decoder
        states that predicted them. The softmax runs over ``SOFTMAX_ROWS`` rows of logits at a time:
        over all of them it was a second copy of the logits (~100 tokens x 50257: 21 MB)."""
        logits = self.model.get_output_embeddings()(states).float()
        picked = torch.tensor(tokens, device=logits.device)
        chosen = torch.empty(len(tokens), device=logits.device)
        for first in range(0, len(tokens), SOFTMAX_ROWS):
            block = logits[first : first + SOFTMAX_ROWS, : self.end_of_text].softmax(-1)
            rows = torch.arange(len(block), device=logits.device)
            chosen[first : first + SOFTMAX_ROWS] = block[rows, picked[first : first + SOFTMAX_ROWS]]
        return chosen.cpu().numpy()

    def attend(self, encoded: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The alignment heads' attention scores before the softmax (heads × tokens × frames) and the
        decoder's last hidden states, from one decoder pass that captures those heads' queries and keys.

        Hooks on the query and key projections work whatever attention kernel the model runs
        (Hush's own returns no weights); they live for this one pass only."""
        decoder = self.model.get_decoder()
        captured: dict[tuple[int, str], torch.Tensor] = {}
        hooks = []
        for layer in sorted({layer for layer, _ in self.heads}):
            attention = decoder.layers[layer].encoder_attn
            for name in ("q_proj", "k_proj"):
                keep = partial(remember, captured, (layer, name))
                hooks.append(getattr(attention, name).register_forward_hook(keep))
        try:
            hidden = decoder(input_ids=ids, encoder_hidden_states=encoded, use_cache=False).last_hidden_state
        finally:
            for hook in hooks:
                hook.remove()
        scores = []
        for layer, head in self.heads:
            attention = decoder.layers[layer].encoder_attn
            columns = slice(head * attention.head_dim, (head + 1) * attention.head_dim)
            query = captured[layer, "q_proj"][0, :, columns].float() * attention.scaling
            key = captured[layer, "k_proj"][0, :, columns].float()
            scores.append(query @ key.T)
        return torch.stack(scores), hidden[0]

    def split(self, tokens: list[int], language: str | None) -> tuple[list[str], list[list[int]]]:
        """Tokens grouped into words: at spaces and punctuation, or at every character for ``UNSPACED`` languages."""
        split = _split_tokens_on_unicode if language in UNSPACED else _split_tokens_on_spaces
        words, word_tokens, _ = split(self.tokenizer, tokens)
        return words, word_tokens


def remember(
    captured: dict, key: tuple[int, str], module: torch.nn.Module, inputs: tuple, output: torch.Tensor
) -> None:
    """A forward hook's body: keep ``module``'s output under ``key``."""
    captured[key] = output


def median_filter(values: torch.Tensor, width: int) -> torch.Tensor:
    """The median of each ``width`` neighbours along the last axis (edges reflected).

    Sorted a block of rows at a time: the sort keeps every window's ``width`` values and their
    int64 indices, 12 bytes each, so a whisper-small window's heads sorted at once (10 x ~100
    tokens x 1500 frames x 7) took ~130 MB, and set the server's peak memory."""
    pad = width // 2
    if values.shape[-1] <= pad:
        return values
    padded = F.pad(values, (pad, pad), mode="reflect")
    rows = padded.reshape(-1, padded.shape[-1])
    filtered = values.new_empty(rows.shape[0], values.shape[-1])
    step = max(1, MEDIAN_BLOCK // (values.shape[-1] * width))
    for first in range(0, rows.shape[0], step):
        filtered[first : first + step] = rows[first : first + step].unfold(-1, width, 1).sort()[0][..., pad]
    return filtered.reshape(values.shape)


def dtw(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cheapest monotonic path through ``cost`` (tokens × frames), as openai-whisper's ``dtw``
    walks it: the row and column of each step. Row by row, each row's left-to-right recurrence
    ``c[j] = x[j] + min(a[j], c[j - 1])`` solved at once as a running minimum."""
    rows, columns = cost.shape
    total = np.full((rows + 1, columns + 1), np.inf)
    total[0, 0] = 0.0
    trace = np.zeros((rows + 1, columns + 1), np.int8)
    for i in range(1, rows + 1):
        diagonal, above = total[i - 1, :-1], total[i - 1, 1:]
        best_before = np.minimum(diagonal, above)
        running = np.concatenate([[0.0], np.cumsum(cost[i - 1])])
        total[i, 1:] = running[1:] + np.minimum.accumulate(best_before - running[:-1])
        left = total[i, :-1]
        trace[i, 1:] = np.where(
            (diagonal < above) & (diagonal < left), 0, np.where((above < diagonal) & (above < left), 1, 2)
        )
    trace[0, :], trace[:, 0] = 2, 1
    i, j, path = rows, columns, []
    while i > 0 or j > 0:
        path.append((i - 1, j - 1))
        step = trace[i, j]
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    token_rows, time_columns = np.array(path[::-1]).T
    return token_rows, time_columns


# -- openai-whisper's add_word_timestamps --------------------------------------------------------
def settle(
    timings: list[Timing], segments: list[Decoded], offset: float, last_speech: float
) -> tuple[list[list[Timing]], float]:
    """The words of one window dealt out to its ``segments`` (times from the audio's start), with
    openai-whisper's fixes for words stretched over a pause: at a sentence's end, and at a segment's
    first and last word. Returns the words per segment and where speech was last heard."""
    durations = np.array([t.end - t.start for t in timings])
    durations = durations[durations.nonzero()]
    median = min(0.7, float(np.median(durations))) if len(durations) else 0.0
    longest = median * 2
    if len(durations):
        for previous, timing in pairwise(timings):
            if timing.end - timing.start > longest:
                if timing.word in SENTENCE_ENDS:
                    timing.end = timing.start + longest
                elif previous.word in SENTENCE_ENDS:
                    timing.start = timing.end - longest
    merge_punctuation(timings)

    dealt: list[list[Timing]] = []
    index = 0
    for segment in segments:
        words, used = [], 0
        while index < len(timings) and used < len(segment.tokens):
            timing = timings[index]
            if timing.word:
                timing.start, timing.end = offset + timing.start, offset + timing.end
                words.append(timing)
            used += len(timing.tokens)
            index += 1
        if words:
            first, last = words[0], words[-1]
            second = words[1] if len(words) > 1 else None
            after_pause = first.end - last_speech > median * 4
            if after_pause and (
                first.end - first.start > longest or (second is not None and second.end - first.start > longest * 2)
            ):
                if second is not None and second.end - second.start > longest:
                    boundary = max(second.end / 2, second.end - longest)
                    first.end = second.start = boundary
                first.start = max(0.0, first.end - longest)
            # the segment's own timestamps, where its first or last word runs far past them
            if segment.start < first.end and segment.start - 0.5 > first.start:
                first.start = max(0.0, min(first.end - median, segment.start))
            if segment.end > last.start and segment.end + 0.5 < last.end:
                last.end = max(last.start + median, segment.end)
            last_speech = last.end
        dealt.append(words)
    return dealt, last_speech


def merge_punctuation(timings: list[Timing]) -> None:
    """Opening punctuation joins the word after it, closing punctuation the word before it, as in
    openai-whisper (their own times are dropped; the emptied entries keep no word and no tokens)."""
    following = len(timings) - 1
    for index in range(len(timings) - 2, -1, -1):
        previous, after = timings[index], timings[following]
        if previous.word.startswith(" ") and previous.word.strip() in PREPENDED:
            after.word, after.tokens = previous.word + after.word, previous.tokens + after.tokens
            previous.word, previous.tokens = "", []
        else:
            following = index
    kept = 0
    for index in range(1, len(timings)):
        previous, after = timings[kept], timings[index]
        if not previous.word.endswith(" ") and after.word in APPENDED:
            previous.word, previous.tokens = previous.word + after.word, previous.tokens + after.tokens
            after.word, after.tokens = "", []
        else:
            kept = index


def finish(placed: list[tuple[Decoded, list[Timing]]], pauses: Pauses, keep_times: bool = False) -> list[Segment]:
    """Segments with their words in order: no word starts before the last one ended or inside a
    pause; each segment spans its words (or keeps its times, ``keep_times``, and its words inside)."""
    segments = []
    previous_end = 0.0
    for segment, timings in placed:
        words = []
        for timing in timings:
            start, end = max(timing.start, previous_end), max(timing.end, timing.start, previous_end)
            start, end = out_of_pause(start, end, previous_end, pauses)
            if keep_times:
                start, end = (min(max(t, segment.start), segment.end) for t in (start, end))
            words.append(Word(round(start, 3), round(end, 3), timing.word.strip(), round(timing.probability, 3)))
            previous_end = end
        if words and not keep_times:
            segments.append(Segment(words[0].start, words[-1].end, segment.text, tuple(words)))
        else:
            segments.append(Segment(segment.start, segment.end, segment.text, tuple(words)))
    return segments


def out_of_pause(start: float, end: float, previous_end: float, pauses: Pauses) -> tuple[float, float]:
    """A word's times moved so that it does not start inside a pause: to where speech resumes
    if that is inside the word; a word wholly inside a pause goes to its nearer edge (before the
    pause only where the previous word leaves room)."""
    pause = pauses.around(start)
    if pause is None:
        return start, end
    silent_from, speech_from = pause
    if speech_from < end:
        return speech_from, end
    length = end - start
    if start - silent_from < speech_from - end and previous_end < silent_from:
        return max(previous_end, silent_from - length), silent_from
    return speech_from, speech_from + length
