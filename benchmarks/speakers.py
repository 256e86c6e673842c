"""Speaker labelling on real conversations: diarization error rate, speakers found, time and memory.

    python benchmarks/speakers.py [--repeats 3] [--hours]

Conversations (``tests/support/conversations.py``, downloaded once):
- pyannote-audio's sample: 30 s, two real speakers on the telephone, with overlap;
- six conversations of Fillets NG's two fish (acted Dutch lines, 2.5 min each, random order,
  a speaker often saying two lines in a row, 0.24-0.56 s pauses), exact turns known; seeds 1-3
  were looked at while the clustering's threshold was chosen, 11-13 were not;
- two three-speaker conversations: the two fish and one of the pyannote sample's speakers.

For each: the diarization error rate with ``pyannote.metrics`` (``DiarizationErrorRate``) as
usually reported, a 0.25 s forgiveness collar on each side of every reference boundary and
overlapped speech not scored (``collar=0.5, skip_overlap=True``), and strictly (no collar, overlap
scored), of the speaker turns; the number of speakers found against the truth; the labelling's
time as the engine reports it (``timings["speakers"]``: voice prints, clustering, turns, words
and segments; Silero's speech is found once for transcribing and labelling) as a share of the
whole transcription it is part of, real whisper-base (int8, greedy, with words: the default),
fastest of ``--repeats``; and the memory labelling alone adds to the process at its peak.
``--hours``: labelling alone on 10, 30 and 60 minutes of the fish talking, for time and memory
against length (it must not be quadratic).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import table

from tests.support import conversations
from tests.support.conversations import SAMPLE_RATE, Conversation


def memory_kib(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, from ``/proc/self/status``."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak() -> None:
    """Start ``VmHWM`` again from the current RSS (Linux: write 5 to clear_refs)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def annotation(turns, label=lambda speaker: speaker):
    from pyannote.core import Annotation, Segment

    found = Annotation()
    for i, turn in enumerate(turns):
        found[Segment(turn.start, turn.end), i] = str(label(turn.speaker))
    return found


def error_rates(truth: Conversation, turns) -> tuple[float, float]:
    from pyannote.metrics.diarization import DiarizationErrorRate

    reference, hypothesis = annotation(truth.turns), annotation(turns)
    forgiving = DiarizationErrorRate(collar=0.5, skip_overlap=True)(reference, hypothesis)
    strict = DiarizationErrorRate(collar=0.0, skip_overlap=False)(reference, hypothesis)
    return forgiving, strict


def label(encoder, audio: np.ndarray):
    from backend.engine.voices import speaker_turns

    return speaker_turns(encoder, audio, None, 1, 8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--hours", action="store_true", help="also label 10, 30 and 60 minutes (time and memory)")
    parser.add_argument("--no-whisper", action="store_true", help="skip the transcription timing")
    args = parser.parse_args()

    import torch
    from words import real_whisper_base

    from backend.checkpoints import voices
    from backend.engine.engine import Engine
    from backend.engine.voices import VoiceEncoder
    from backend.transcript import Options
    from scripts.fetch_weights import voice_encoder, weights_dir, wheel_for

    encoder = VoiceEncoder(voice_encoder(weights_dir()))
    # the engine finds the encoder in Hush's cache, as `python scripts/fetch_weights.py --voices` leaves it
    voices.install_from_wheel(wheel_for(voices.PACKAGE, weights_dir() / "wheels"), voices.cache_path())
    talks = [conversations.pyannote_sample()]
    # seeds 1-3 were looked at while the clustering's threshold was chosen; 11-13 were not (held out)
    talks += [conversations.fish_conversation(minutes=2.5, seed=seed) for seed in (1, 2, 3, 11, 12, 13)]
    third = {"sample-speaker91": conversations.sample_voice_lines()}
    talks.append(conversations.fish_conversation(minutes=2.5, seed=4, extra=third))
    other = {"sample-speaker90": conversations.sample_voice_lines("speaker90")}
    talks.append(conversations.fish_conversation(minutes=2.5, seed=15, extra=other))

    engine = None
    if not args.no_whisper:
        engine = Engine(str(real_whisper_base()), device="cpu")
        engine.start()
        assert engine.wait_until_loaded(600).state == "ready"
    print(f"{torch.get_num_threads()} torch threads", flush=True)

    rows = []
    for talk in talks:
        label(encoder, talk.audio[: 10 * SAMPLE_RATE])  # warm-up
        reset_peak()
        before = memory_kib("VmRSS")
        turns = label(encoder, talk.audio)
        added = (memory_kib("VmHWM") - before) / 1024
        forgiving, strict = error_rates(talk, turns)
        found = len({t.speaker for t in turns})
        share, spent = "-", "-"
        if engine is not None:
            # as the user pays it: the engine transcribes and labels (Silero's speech is found once for both)
            labelling, transcribing = [], []
            for _ in range(args.repeats):
                timings = engine.transcribe(talk.audio, Options(temperature=0.0, speakers="auto")).timings
                labelling.append(timings["speakers"])
                transcribing.append(timings["total"])
            share = f"{100 * min(labelling) / min(transcribing):.1f} % of {min(transcribing):.1f} s"
            spent = f"{min(labelling):.2f} s ({max(labelling) - min(labelling):.2f})"
        rows.append(
            (
                talk.name,
                f"{talk.duration:.0f} s",
                f"{100 * forgiving:.1f} %",
                f"{100 * strict:.1f} %",
                f"{found} / {len(talk.speakers)}",
                spent,
                share,
                f"+{added:.0f} MB",
            )
        )
        print(rows[-1], flush=True)
    header = (
        "conversation",
        "length",
        "DER ±0.25 s",
        "DER strict",
        "speakers",
        "labelling (spread)",
        "share",
        "memory",
    )
    print(table(rows, header))

    if args.hours:
        long_rows = []
        for minutes in (10, 30, 60):
            talk = conversations.fish_conversation(minutes=minutes, seed=7)
            reset_peak()
            before = memory_kib("VmRSS")
            started = time.perf_counter()
            turns = label(encoder, talk.audio)
            took = time.perf_counter() - started
            added = (memory_kib("VmHWM") - before) / 1024
            forgiving, _ = error_rates(talk, turns)
            long_rows.append(
                (
                    f"{minutes} min",
                    f"{took:.1f} s",
                    f"{took / minutes:.2f} s",
                    f"+{added:.0f} MB",
                    f"{100 * forgiving:.1f} %",
                )
            )
            print(long_rows[-1], flush=True)
        print(table(long_rows, ("length", "labelling", "per minute", "memory", "DER ±0.25 s")))
    if engine is not None:
        engine.close()


if __name__ == "__main__":
    main()
