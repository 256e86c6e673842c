"""Train a tiny Whisper that really transcribes the 20-word vocabulary (seeded, CPU).

    python tests/assets/tiny-whisper-words/train.py --out tests/assets/tiny-whisper-words

Pipeline: espeak-ng corpus (``tests/support/speech_corpus.py``: 12000 utterances from the stock
English voices x 40 variants plus 100 made-up voices, cached under ``--cache``) ->
training windows built on the fly (noise, level changes, speed perturbation, packing)
-> log-mel features with the checkpoint's own feature extractor -> training ->
``save_pretrained`` to ``--out`` -> held-out WER, transcribed the way the app does it
(``generate`` with timestamps; long-form for the 5-minute file).

What makes a model this small learn in under half an hour on a 2-core CPU:

* **Hybrid CTC/attention.**  A linear CTC head over ARPAbet phones on the encoder
  output (weight 1) makes the encoder find the sounds quickly.  The head is dropped when
  saving: the checkpoint is a plain ``WhisperForConditionalGeneration``.
* **Guided cross-attention.**  The last decoder layer's cross-attention (mean over
  heads) is pushed onto the frames of the token it predicts: each word gets a share of
  its utterance's known time span proportional to its phone count, a timestamp the
  frames around its boundary.  Without it the decoder plateaus for thousands of steps
  before it finds the alignment on its own.
* **Windows the way long-form ``generate`` sees them.**  Short clips padded to the
  window (as the processor pads them) and windows cut out of long recordings: features
  over the whole recording, a window starting about where the previous segment ended,
  zero feature padding after the end of the file.
* **Timestamps the long-form algorithm can seek by.**  A window's target is
  ``<|t0|> words <|t1|><|t2|> words <|t3|>`` for every utterance it holds completely; an
  utterance cut off by the end of the window contributes only its start timestamp, so
  ``generate`` seeks back to the end of the last complete segment and nothing is lost or
  doubled at the seams; a window holding only such an utterance is just its start
  timestamp, and the engine (``backend/engine/sequential.py``) seeks to it.  15 % of the targets
  are ``<|notimestamps|>`` ones.
* **Cheap steps.**  10-second windows (``max_source_positions=500``), bfloat16
  autocast (1.5x on AVX512-bf16 CPUs), two attention heads of 64 dimensions (Whisper's
  head size; the 500 x 500 encoder maps dominate a step and cost per head: 1.25x the
  steps of four heads of 32 in the same time), attention with its softmax in bfloat16,
  He-initialised convolutions (Whisper's N(0, 0.02) leaves the audio far weaker than the
  positional embedding at d_model 128).
* **An average of the weights.**  The checkpoint is the exponential moving average of
  the weights over the last ~500 steps, not the last step's weights: long-form WER 3.3 ->
  2.6 % on the test seeds, from the same run.
* **Two cores busy.**  Windows are made in a worker process (``Windows`` as an
  ``IterableDataset``) while the main process trains on two passive OpenMP threads
  (3.4 steps/s at the defaults; with four heads and the bfloat16 softmax 2.75, against
  2.23 on one thread with eager attention); one seeded worker keeps the stream of
  windows the same from run to run.

The held-out WER at the end is measured by the app's engine on the checkpoint loaded
back from ``--out``; ``benchmarks/wer.py --tiny`` measures it through the HTTP API.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
import os
import sys

# Spinning OpenMP threads would steal the core the window-making worker runs on.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from transformers import AttentionInterface, AttentionMaskInterface
from transformers.masking_utils import eager_mask

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: the app's engine evaluates
from backend.engine.engine import Engine
from tests.support import speech_corpus as sc
from tests.support import tiny_whisper as tw
from tests.support.word_error import wer

SR = sc.SAMPLE_RATE
FRAME = 0.01  # seconds per mel frame
WINDOW_S = 10.0
WINDOW_FRAMES = 1000
ENC_FRAMES = 500
TS_STEP = 0.02

#: Pronunciations for the auxiliary CTC head (ARPAbet, American).  Phones are short and
#: local, so the encoder learns them long before it could learn whole words; the decoder
#: then reads words off phone-like encoder states.  Accents differ a little; CTC copes.
PHONES = {
    "zero": "Z IH R OW", "one": "W AH N", "two": "T UW", "three": "TH R IY", "four": "F AO R",
    "five": "F AY V", "six": "S IH K S", "seven": "S EH V AH N", "eight": "EY T", "nine": "N AY N",
    "yes": "Y EH S", "no": "N OW", "up": "AH P", "down": "D AW N", "left": "L EH F T",
    "right": "R AY T", "on": "AA N", "off": "AO F", "stop": "S T AA P", "go": "G OW",
}  # fmt: skip
PHONE_SET = sorted({p for phones in PHONES.values() for p in phones.split()})


# ----------------------------------------------------------------------------------------
# Attention for training


def lean_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """Eager attention (the guide loss needs the weights) with the scaling folded into the
    query and the softmax in bfloat16 under autocast: the 500 x 500 encoder attention
    maps are most of a training step, and this makes the step ~15 % cheaper."""
    scaling = query.size(-1) ** -0.5 if scaling is None else scaling
    weights = torch.matmul(query * scaling, key.transpose(2, 3))
    if attention_mask is not None:
        weights = weights + attention_mask
    with torch.autocast(weights.device.type, enabled=False):
        weights = torch.softmax(weights, dim=-1)
    weights = F.dropout(weights, p=dropout, training=module.training)
    return torch.matmul(weights, value).transpose(1, 2).contiguous(), weights


AttentionInterface.register("hush_train", lean_attention)
AttentionMaskInterface.register("hush_train", eager_mask)  # without it the decoder would see the future


@torch.no_grad()
def check_lean_attention(model) -> None:
    """The training attention must compute what eager attention computes (causal mask included)."""
    features = torch.randn(1, model.config.num_mel_bins, 2 * model.config.max_source_positions)
    tokens = torch.tensor([[model.config.decoder_start_token_id, 1, 2, 3, 4]])
    logits = {}
    for name in ("eager", "hush_train"):
        model.set_attn_implementation(name)
        logits[name] = model(input_features=features, decoder_input_ids=tokens).logits
    assert torch.allclose(logits["eager"], logits["hush_train"], atol=1e-4), "lean attention differs from eager"


@torch.no_grad()
def peek(model, processor, audio: np.ndarray) -> str:
    """A quick greedy transcript of one clip while training; the figures that count come
    from ``evaluate`` (the app's engine on the saved checkpoint)."""
    features = processor(audio, sampling_rate=SR, return_tensors="pt").input_features
    ids = model.generate(features, language="en", task="transcribe")
    return processor.batch_decode(ids, skip_special_tokens=True)[0]


# ----------------------------------------------------------------------------------------
# Training windows


class Windows(torch.utils.data.IterableDataset):
    """An endless, seeded stream of training batches (features, decoder tokens, CTC
    targets, attention guides) built from a corpus."""

    def __init__(
        self,
        corpus: list[sc.Utterance],
        processor,
        seed: int,
        batch_size: int,
        ctc_units: str = "phones",
        speed_perturb: float = 0.0,
        clip_share: float = 0.3,
    ):
        self.corpus = corpus
        self.speed_perturb = speed_perturb
        self.clip_share = clip_share
        self.batch_size = batch_size
        self.fe = processor.feature_extractor
        self.rng = np.random.default_rng(seed)
        ids = processor.tokenizer.convert_tokens_to_ids
        self.word_id = {w: ids(f"Ġ{w}") for w in tw.WORDS}
        eot = ids("<|endoftext|>")
        assert len(set(self.word_id.values())) == len(tw.WORDS) and max(self.word_id.values()) < eot, (
            "every word must be a single text token"
        )
        if ctc_units == "phones":  # 0 = blank
            unit = {p: i + 1 for i, p in enumerate(PHONE_SET)}
            self.ctc_units = {w: [unit[p] for p in PHONES[w].split()] for w in tw.WORDS}
        else:
            self.ctc_units = {w: [i + 1] for i, w in enumerate(tw.WORDS)}
        self.sot, self.en, self.transcribe = ids("<|startoftranscript|>"), ids("<|en|>"), ids("<|transcribe|>")
        self.notimestamps, self.eot = ids("<|notimestamps|>"), ids("<|endoftext|>")
        self.ts0 = ids("<|0.00|>")
        self.max_tokens = 95

    def ts(self, seconds: float) -> int:
        return self.ts0 + int(round(min(max(seconds, 0.0), WINDOW_S) / TS_STEP))

    def utterance(self, max_seconds: float = 9.0) -> sc.Utterance:
        while True:
            u = self.corpus[int(self.rng.integers(len(self.corpus)))]
            if 0 < u.seconds <= max_seconds:
                return self.perturb(u)

    def perturb(self, u: sc.Utterance) -> sc.Utterance:
        """Speed perturbation: resampling shifts tempo, pitch and formants together (a
        longer or shorter vocal tract), for voices the corpus does not have."""
        if self.speed_perturb <= 0 or self.rng.random() < 0.5:
            return u
        factor = self.rng.uniform(1 - self.speed_perturb, 1 + self.speed_perturb)
        n = int(len(u.audio) / factor)
        audio = np.interp(np.arange(n) * factor, np.arange(len(u.audio)), u.audio).astype(np.float32)
        return dataclasses.replace(u, audio=audio)

    def segment(self, words: list[str], start: float, end: float, timestamps: bool = True):
        """Tokens of one utterance (window-relative seconds) and, per token, the encoder
        frames it should attend to: each word gets a share of the utterance proportional
        to its phone count, timestamps the frames around their boundary."""
        weights = np.array([len(PHONES[w].split()) + 1.0 for w in words])
        edges = start + (end - start) * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
        enc = 2 * FRAME
        spans = []
        for a, b in itertools.pairwise(edges):
            pad = max(0.06, 0.25 * (b - a))
            spans.append((int((a - pad) / enc), int(math.ceil((b + pad) / enc))))
        tokens = [self.word_id[w] for w in words]
        if timestamps:
            tokens = [self.ts(start), *tokens, self.ts(end)]
            spans = [self.near(start), *spans, self.near(end)]
        return tokens, spans

    @staticmethod
    def near(t: float) -> tuple[int, int]:
        """Encoder frames within 0.1 s of ``t``."""
        return int((t - 0.1) / (2 * FRAME)), int(math.ceil((t + 0.1) / (2 * FRAME)))

    def ctc(self, words: list[str]) -> list[int]:
        return [u for w in words for u in self.ctc_units[w]]

    def features(self, audio: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(self.fe._torch_extract_fbank_features(audio[None].astype(np.float32))[0])

    def clip(self, timestamps: bool):
        """A short recording padded to the window, as the processor does it."""
        rng = self.rng
        u = self.utterance()
        audio, start, end = sc.make_clip(u, rng)
        audio = audio[: int(WINDOW_S * SR)]
        end = min(end, len(audio) / SR)
        padded = np.zeros(int(WINDOW_S * SR), np.float32)
        padded[: len(audio)] = audio
        feats = self.features(padded)
        words = u.text.split()
        body, spans = self.segment(words, start, end, timestamps)
        if not timestamps:
            body, spans = [self.notimestamps, *body], [None, *spans]
        return feats, body, self.ctc(words), ENC_FRAMES, spans

    def stream(self):
        """A window cut out of a longer recording, as long-form ``generate`` sees it."""
        rng = self.rng
        utterances, length = [], 0.0
        target = rng.uniform(12, 28)
        while length < target:
            u = self.utterance(6.5)
            utterances.append(u)
            length += u.seconds + 1.0
        pause = (0.3, 2.0) if rng.random() < 0.7 else (0.15, 0.8)
        audio, segments = sc.make_long_form(utterances, rng, pause=pause, lead=rng.uniform(0.1, 1.0))
        # where the window starts: the beginning of the file; about where a segment ended
        # (generate seeks to the end of the last complete segment); or anywhere in a pause
        # (after a window that ended in silence, generate moves on by a whole window)
        k = int(rng.integers(0, len(segments)))
        if k == 0 or rng.random() < 0.15:
            w0 = 0.0
        else:
            prev_end, next_start = segments[k - 1][1], segments[k][0]
            if rng.random() < 0.6:
                w0 = min(prev_end + rng.uniform(-0.04, 0.2), next_start - 0.05)
            else:
                w0 = rng.uniform(prev_end, max(prev_end, next_start - 0.05))
        end_of_file = len(audio) / SR
        if rng.random() < 0.3:  # the recording ends inside this window (last window of a file)
            inside = [s for s in segments if w0 < s[1] < w0 + WINDOW_S - 0.2]
            if inside:
                i = int(rng.integers(len(inside)))
                stop = inside[i][1]
                after = [s[0] for s in segments if s[0] > stop]
                end_of_file = min(end_of_file, stop + rng.uniform(0.05, 1.5), *(a - 0.05 for a in after[:1]))
                audio = audio[: int(end_of_file * SR)]
        feats = self.features(audio)  # one max over the whole recording, like the processor
        f0 = int(round(w0 / FRAME))
        window = feats[:, f0 : f0 + WINDOW_FRAMES]
        if window.shape[1] < WINDOW_FRAMES:  # generate pads the last window with zeros
            window = F.pad(window, (0, WINDOW_FRAMES - window.shape[1]))
        w1 = w0 + WINDOW_S
        body, spans, ctc, ctc_frames = [], [], [], ENC_FRAMES
        for start, end, text in segments:
            if end <= w0 + 0.06 or start >= min(w1, end_of_file):
                continue  # before the window (or a sliver of its tail), or after it
            if start < w0:
                return None  # starts before the window: not a case generate produces
            if end <= w1 and end <= end_of_file:
                words = text.split()
                tokens, where = self.segment(words, start - w0, end - w0)
                body += tokens
                spans += where
                ctc += self.ctc(words)
            else:  # cut off by the end of the window: only its start time
                body.append(self.ts(start - w0))
                spans.append(self.near(start - w0))
                ctc_frames = max(1, int((start - w0) / (2 * FRAME)))
                break
        if not body:
            body, spans = [self.ts0], [None]
        return window, body, ctc, ctc_frames, spans

    def sample(self):
        rng = self.rng
        while True:
            item = self.clip(timestamps=rng.random() < 0.5) if rng.random() < self.clip_share else self.stream()
            if item is not None and len(item[1]) + 4 <= self.max_tokens:
                return item

    def __iter__(self):
        while True:
            yield self.batch(self.batch_size)

    def batch(self, size: int):
        items = [self.sample() for _ in range(size)]
        feats = torch.stack([it[0] for it in items])
        seqs = [[self.sot, self.en, self.transcribe, *it[1], self.eot] for it in items]
        n = max(len(s) for s in seqs)
        dec = torch.full((size, n - 1), self.eot, dtype=torch.long)
        labels = torch.full((size, n - 1), -100, dtype=torch.long)
        for i, s in enumerate(seqs):
            dec[i, : len(s) - 1] = torch.tensor(s[:-1])
            labels[i, : len(s) - 1] = torch.tensor(s[1:])
        ctc_targets = torch.tensor([t for it in items for t in it[2]], dtype=torch.long)
        ctc_target_lengths = torch.tensor([len(it[2]) for it in items], dtype=torch.long)
        ctc_input_lengths = torch.tensor([it[3] for it in items], dtype=torch.long)
        guide = torch.zeros((size, n - 1, ENC_FRAMES), dtype=torch.bool)  # attention targets
        for i, it in enumerate(items):
            for j, span in enumerate(it[4]):
                if span is not None:  # body token j is label 2 + j (after <|en|><|transcribe|>)
                    guide[i, 2 + j, max(0, span[0]) : max(1, min(ENC_FRAMES, span[1]))] = True
        return feats, dec, labels, ctc_targets, ctc_input_lengths, ctc_target_lengths, guide


# ----------------------------------------------------------------------------------------


def evaluate(folder: str, clips, long_audio=None, long_text=None) -> dict:
    """Held-out WER of short clips and (optionally) one long-form recording, transcribed by
    the app's own engine from the saved checkpoint (float32, as the app runs a model this
    small), with the language detected as in the app."""
    engine = Engine(folder, device="cpu", precision="float32")
    engine.start()
    engine.wait_until_loaded()
    hyps = [engine.transcribe(audio).text for audio, _ in clips]
    result = {"short": wer([t for _, t in clips], hyps), "examples": list(zip([t for _, t in clips], hyps))}
    if long_audio is not None:
        hyp = engine.transcribe(long_audio).text
        result["long"] = wer([long_text], [hyp])
        result["long_hyp"] = hyp
    engine.close()
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--corpus-size", type=int, default=12000)
    p.add_argument("--made-up-voices", type=int, default=100, help="random espeak-ng voices added to the corpus")
    p.add_argument("--speed-perturb", type=float, default=0.1, help="resample half the utterances by 1 +- this")
    p.add_argument("--cache", default="/tmp/hush-speech-cache", help="where the synthesized corpus is cached")
    p.add_argument("--steps", type=int, default=5600)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--clip-share", type=float, default=0.25, help="short clips among the windows (the rest: long-form)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--ema", type=float, default=0.998, help="save this moving average of the weights (0: the last)")
    p.add_argument("--ctc-weight", type=float, default=1.0, help="auxiliary CTC loss weight")
    p.add_argument("--ctc-units", choices=["phones", "words"], default="phones")
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--encoder-layers", type=int, default=3)
    p.add_argument("--decoder-layers", type=int, default=3)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--ffn", type=int, default=512)
    p.add_argument("--guide-weight", type=float, default=1.0, help="guided cross-attention loss weight")
    p.add_argument("--guide-steps", type=int, default=-1, help="guide the attention for this many steps (-1: all)")
    p.add_argument("--conv-init", choices=["kaiming", "whisper"], default="kaiming")
    p.add_argument("--linear-init", choices=["xavier", "whisper"], default="whisper")
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True, help="bfloat16 autocast")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--eval-clips", type=int, default=200)
    p.add_argument("--eval-long", type=float, default=300.0, help="seconds of long-form audio to evaluate (0: skip)")
    args = p.parse_args()
    if args.guide_steps < 0:
        args.guide_steps = args.steps

    torch.set_num_threads(args.threads)
    sc.check_tools()
    t_start = time.time()

    model, processor = tw.build_model(
        seed=args.seed,
        visible_text=False,
        d_model=args.d_model,
        encoder_layers=args.encoder_layers,
        decoder_layers=args.decoder_layers,
        encoder_attention_heads=args.heads,
        decoder_attention_heads=args.heads,
        encoder_ffn_dim=args.ffn,
        decoder_ffn_dim=args.ffn,
        max_source_positions=ENC_FRAMES,
    )
    assert processor.feature_extractor.chunk_length == WINDOW_S
    # Whisper's generation config lets a window's first segment start no later than 1 s in;
    # the training windows start up to a whole pause (2 s) before their first utterance, or
    # anywhere before one the window cuts off (the lone start timestamp a window is then
    # decoded to), so the decoder may place it anywhere. Capped at 1 s it starts words too
    # early and doubles them (long-form WER 5.0 -> 3.3 % on the validation seeds).
    model.generation_config.max_initial_timestamp_index = None
    if args.conv_init == "kaiming":
        # Whisper's N(0, 0.02) convolutions leave the audio ~10x weaker than the sinusoidal
        # positions it is added to; He init makes the two comparable, so learning starts at once.
        with torch.no_grad():
            for conv in (model.model.encoder.conv1, model.model.encoder.conv2):
                torch.nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                conv.bias.zero_()
    if args.linear_init == "xavier":
        # N(0, 0.02) is made for d_model 768+; at 128 it leaves attention uniform for long
        with torch.no_grad():
            for name, module in model.named_modules():
                if isinstance(module, torch.nn.Linear) and not name.endswith("proj_out"):
                    torch.nn.init.xavier_uniform_(module.weight)
                    if module.bias is not None:
                        module.bias.zero_()
    n_units = len(PHONE_SET) if args.ctc_units == "phones" else len(tw.WORDS)
    ctc_head = torch.nn.Linear(args.d_model, n_units + 1)
    params = list(model.parameters()) + list(ctc_head.parameters())
    print(f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters", flush=True)

    print(f"corpus: {args.corpus_size} utterances (seed {args.seed}) ...", flush=True)
    corpus = sc.make_corpus(
        args.corpus_size, args.seed, cache_dir=args.cache, progress=True, made_up_voices=args.made_up_voices
    )
    hours = sum(u.seconds for u in corpus) / 3600
    print(f"corpus: {hours:.2f} h of speech, ready after {time.time() - t_start:.0f}s", flush=True)
    # held out: other seed, other sentences, and voice variants the training never hears
    eval_clips = sc.short_clips(args.eval_clips, seed=10_000 + args.seed) if args.eval_clips else []
    probe = sc.short_clips(4, seed=20_000 + args.seed)

    windows = Windows(corpus, processor, args.seed + 1, args.batch, args.ctc_units, args.speed_perturb, args.clip_share)
    eot = windows.eot
    # one worker: the windows come in the same order every run
    batches = iter(torch.utils.data.DataLoader(windows, batch_size=None, num_workers=1, prefetch_factor=4))
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)

    def lr_at(step: int) -> float:
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        progress = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))

    # the saved weights: a moving average over the last ~1/(1 - ema) steps, which smooths
    # out the noise of the last updates
    weights = [p.detach() for p in model.parameters()]  # views: the optimizer updates them in place
    ema = [w.clone() for w in weights] if args.ema else []
    model.train()
    t_train = time.time()
    t_log, ce_sum, ctc_sum, ga_sum, word_sum, n_sum = time.time(), 0.0, 0.0, 0.0, 0.0, 0
    check_lean_attention(model)
    if args.guide_steps > 0:
        model.set_attn_implementation("hush_train")  # attention weights for the guide loss
    for step in range(args.steps):
        feats, dec, labels, ctc_t, ctc_in, ctc_tl, guide = next(batches)
        guided = step < args.guide_steps
        if step == args.guide_steps:
            model.set_attn_implementation("sdpa")
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            out = model(input_features=feats, decoder_input_ids=dec, output_attentions=guided)
            ctc_logits = ctc_head(out.encoder_last_hidden_state)
        token_ce = F.cross_entropy(out.logits.float().transpose(1, 2), labels, ignore_index=-100, reduction="none")
        ce = token_ce.sum() / (labels != -100).sum()
        is_word = (labels >= 0) & (labels < eot)
        word_ce = (token_ce * is_word).sum() / is_word.sum().clamp(min=1)
        log_probs = ctc_logits.float().log_softmax(-1).transpose(0, 1)
        ctc = F.ctc_loss(log_probs, ctc_t, ctc_in, ctc_tl, blank=0, zero_infinity=True)
        loss = ce + args.ctc_weight * ctc
        if guided:
            # guided attention: the last decoder layer's cross-attention (mean over heads)
            # should put its mass on the frames of the word it is predicting
            attention = out.cross_attentions[-1].float().mean(1)
            rows = guide.any(-1)
            mass = (attention * guide).sum(-1)[rows]
            ga = -torch.log(mass + 1e-4).mean()
            loss = loss + args.guide_weight * ga
            ga_sum += ga.item()
        word_sum += word_ce.item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if ema:
            torch._foreach_lerp_(ema, weights, 1 - args.ema)
        ce_sum, ctc_sum, n_sum = ce_sum + ce.item(), ctc_sum + ctc.item(), n_sum + 1
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            now = time.time()
            print(
                f"step {step + 1:5d}  loss {ce_sum / n_sum:.3f} (words {word_sum / n_sum:.3f})  "
                f"ctc {ctc_sum / n_sum:.3f}  "
                f"guide {ga_sum / n_sum:.3f}  "
                f"lr {lr_at(step):.2e}  {n_sum / (now - t_log):.2f} steps/s  {now - t_start:.0f}s",
                flush=True,
            )
            t_log, ce_sum, ctc_sum, ga_sum, word_sum, n_sum = now, 0.0, 0.0, 0.0, 0.0, 0
        if (step + 1) % (args.log_every * 5) == 0:
            model.eval()
            for audio, text in probe[:2]:
                print(f"    {text!r} -> {peek(model, processor, audio)!r}", flush=True)
            model.train()
    train_time = time.time() - t_train
    print(f"training: {args.steps} steps in {train_time / 60:.1f} min ({args.steps / train_time:.2f} steps/s)")

    model.eval()
    model.set_attn_implementation("sdpa")
    if ema:
        torch._foreach_copy_(weights, ema)
    tw.save_checkpoint(model, processor, args.out)
    size = sum(f.stat().st_size for f in Path(args.out).iterdir()) / 1e6
    print(f"saved {args.out} ({size:.1f} MB)", flush=True)

    if eval_clips:
        long_audio = long_text = None
        if args.eval_long:
            long_audio, long_text, _ = sc.long_form(args.eval_long, seed=30_000 + args.seed)
        r = evaluate(args.out, eval_clips, long_audio, long_text)
        print(f"held-out short clips: WER {100 * r['short'][0]:.2f}% ({r['short'][1]}/{r['short'][2]} words)")
        for ref, hyp in r["examples"][:5]:
            print(f"    {ref!r} -> {hyp.strip()!r}")
        if "long" in r:
            wer_long, errors, words = r["long"][:3]
            print(f"held-out long-form ({args.eval_long:.0f}s): WER {100 * wer_long:.2f}% ({errors}/{words} words)")
    print(f"total time {(time.time() - t_start) / 60:.1f} min")


if __name__ == "__main__":
    main()
