"""Read English for real-weight benchmarks: distinct sentences spoken by espeak-ng, with pauses.

No speech corpus can be downloaded here, so a small grammar writes plain sentences
("The quiet farmer painted the wooden fence behind the old church last summer.") and
espeak-ng reads them in seven English voices and several speeds, one after another with
pauses of 0.3-2 s (now and then a longer one) over light background noise. Only words
Whisper spells one way are used: no digits, names or British/American spellings, so
the word error rate counts mistakes, not spelling conventions. The same seed always
gives the same recording and text.

    python -m tests.support.english_speech --minutes 10 --out /tmp/english.wav   # writes the WAV and a .txt
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import numpy as np

from tests.support import speech_corpus

SAMPLE_RATE = speech_corpus.SAMPLE_RATE
#: espeak-ng voices (voice, variant) that whisper-base mostly understands: 3-16 % WER on
#: sentences alone, where en-gb-scotland, en-029 or the Andy variant are at 38-48 %.
VOICES = (
    ("en-us", ""),
    ("en-us", "edward"),
    ("en-gb-x-rp", ""),
    ("en-us", "f2"),
    ("en-us", "f3"),
    ("en-us", "m1"),
    ("en-us", "m3"),
)
SPEEDS = (140, 175)  # words per minute


def choices(text: str) -> list[str]:
    """The phrases of ``text``: separated by ``|`` where it has any, else its words."""
    return [" ".join(p.split()) for p in text.split("|")] if "|" in text else text.split()


ADJECTIVES = choices("""old young quiet busy careful tired happy clever small tall patient friendly nervous brave
gentle proud lazy honest curious polite""")
PEOPLE = choices("""farmer teacher doctor baker driver student nurse painter writer gardener pilot lawyer
neighbor cousin engineer musician waiter sailor grandmother librarian""")
VERBS = choices("""painted carried opened repaired cleaned moved found sold bought borrowed washed closed checked
counted wrapped delivered watched described ordered noticed""")
THINGS = choices("""fence window basket letter bicycle kitchen table garden door bottle jacket ladder camera
blanket wagon piano lamp bucket umbrella kettle notebook suitcase mirror""")
THING_ADJECTIVES = choices("""wooden heavy broken yellow narrow dusty empty shiny ancient bright green soft
expensive tiny comfortable""")
PLACES = choices("""behind the old church|near the river|at the train station|in the small village|on the
quiet street|beside the library|under the bridge|at the market|in the back yard|outside the bakery|near
the harbor|at the top of the hill|inside the museum|across from the school|next to the post office""")
TIMES = choices("""last summer|this morning|before dinner|after the storm|every weekend|late at night|early on
Sunday|during the holidays|yesterday afternoon|at sunrise|before the meeting|after lunch|in the spring|on
a rainy evening|while everyone was asleep""")
CLAUSES = choices("""because the weather was pleasant|although nobody had asked|so that the children could play|while
the radio was playing|before the guests arrived|since the shop was closed|as soon as the rain stopped|even
though it was getting dark|because it had been forgotten|when the bell rang""")
QUESTIONS = choices("""Did you remember to|Would you like to|Could we please|Why did they""")
QUESTION_VERBS = choices("""open the window|close the door|water the plants|call the doctor|visit the museum|clean
the kitchen|wash the car|fix the old radio|feed the hungry cat|carry the heavy boxes""")


def sentence(rng: np.random.Generator) -> str:
    """One plain English sentence from the grammar."""
    pick = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
    kind = rng.random()
    if kind < 0.12:
        return f"{pick(QUESTIONS)} {pick(QUESTION_VERBS)} {pick(TIMES)}?"
    subject = f"the {pick(ADJECTIVES)} {pick(PEOPLE)}"
    thing = f"the {pick(THING_ADJECTIVES)} {pick(THINGS)}"
    parts = [subject, pick(VERBS), thing, pick(PLACES)]
    if kind < 0.55:
        parts.append(pick(TIMES))
    elif kind < 0.85:
        parts.append(pick(CLAUSES))
    else:
        parts += [pick(TIMES), pick(CLAUSES)]
    text = " ".join(parts)
    return text[0].upper() + text[1:] + "."


def sentences(count: int, seed: int) -> list[str]:
    """``count`` distinct sentences."""
    rng = np.random.default_rng(seed)
    found: dict[str, None] = {}
    while len(found) < count:
        found[sentence(rng)] = None
    return list(found)


def _speak(recipe: tuple[str, str, str, int, int]) -> np.ndarray:
    text, voice, variant, speed, pitch = recipe
    return speech_corpus.synthesize(text, voice, variant, speed, pitch)


def recording(minutes: float, seed: int = 7) -> tuple[np.ndarray, str]:
    """About ``minutes`` of read sentences with pauses: 16 kHz mono float32 and the text spoken."""
    rng = np.random.default_rng(seed)
    texts = sentences(int(minutes * 60 / 4) + 20, seed)
    recipes = []
    for text in texts:
        voice, variant = VOICES[int(rng.integers(len(VOICES)))]
        recipes.append((text, voice, variant, int(rng.integers(SPEEDS[0], SPEEDS[1] + 1)), int(rng.integers(35, 65))))
    with multiprocessing.Pool(os.cpu_count()) as pool:  # espeak-ng is single-threaded
        spoken = pool.map(_speak, recipes)
    pieces: list[np.ndarray] = []
    said: list[str] = []
    length = 0
    limit = int(minutes * 60 * SAMPLE_RATE)
    for text, audio in zip(texts, spoken, strict=True):
        pause = rng.uniform(3.0, 6.0) if rng.random() < 0.08 else rng.uniform(0.3, 2.0)
        gap = np.zeros(int(pause * SAMPLE_RATE), np.float32)
        if length + len(gap) + len(audio) > limit - SAMPLE_RATE // 2:
            break
        pieces += [gap, audio * np.float32(10 ** (rng.uniform(-6, 2) / 20))]
        said.append(text)
        length += len(gap) + len(audio)
    pieces.append(np.zeros(limit - length, np.float32))
    audio = np.concatenate(pieces)
    audio = speech_corpus.add_noise(audio, rng, 35.0, reference=0.2)
    return np.clip(audio, -1, 1).astype(np.float32), " ".join(said)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    speech_corpus.check_tools()
    audio, text = recording(args.minutes, args.seed)
    speech_corpus.write_wav(args.out, audio)
    args.out.with_suffix(".txt").write_text(text + "\n")
    print(f"{args.out}: {len(audio) / SAMPLE_RATE:.0f} s, {len(text.split())} words")


if __name__ == "__main__":
    main()
