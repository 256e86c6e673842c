"""Real OpenAI whisper-base in Hush's engine, at its default precision (int8 on the CPU).

The speech is espeak-ng's, harder for Whisper than a person's: a word may come out misspelt
or misheard ("light has kept her" for "lighthouse keeper"), so a sentence counts as heard
when most of its content words are there, and every sentence must be heard.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from backend.engine.engine import Options
from tests.support.real_weights import overlap, words

ENGLISH = [
    "We planted tomatoes, carrots and potatoes in the garden this spring.",
    "The doctor told him to drink more water and get some sleep.",
    "The shop on the corner sells newspapers, coffee and chocolate.",
]
OTHER_LANGUAGES = {
    "de": "Guten Morgen, ich möchte heute ein Buch in der Bibliothek ausleihen.",
    "fr": "Bonjour, je voudrais acheter du pain et du fromage au marché.",
    "es": "Buenos días, quiero comprar frutas y verduras en el mercado.",
}
#: Three minutes of distinct sentences (few content words shared), so each can be looked for
#: in the whole transcript; several of them straddle a 30-second window's edge.
LONG_FORM = [
    "The old lighthouse keeper climbed the stairs every night to light the lamp.",
    "Fresh bread from the bakery smells wonderful early in the morning.",
    "Our neighbours adopted a small brown puppy from the animal shelter.",
    "The museum opens a new exhibition about ancient Egypt next month.",
    "Heavy rain flooded several streets in the city centre yesterday.",
    "My grandfather repairs old clocks in his workshop behind the house.",
    "The children built a sandcastle with towers and a deep moat.",
    "Please close the window before you leave the office tonight.",
    "A famous chef opened a restaurant that serves only vegetables.",
    "The pilot announced that the plane would land twenty minutes early.",
    "Students must return their library books before the holidays begin.",
    "The orchestra played a beautiful symphony at the concert hall.",
    "Farmers harvest apples and pears in the autumn.",
    "The hotel room had a balcony with a view of the mountains.",
    "She painted the kitchen walls a bright shade of yellow.",
    "The bus driver waited patiently for the last passenger.",
    "Engineers designed a bridge that can survive strong earthquakes.",
    "We watched the sunset from the top of the hill.",
    "The doctor recommended walking thirty minutes every day.",
    "Thousands of birds fly south when the weather turns cold.",
    "The shop on the corner sells newspapers, coffee and chocolate.",
    "Our football team practises on the field every Tuesday evening.",
    "The scientist measured the temperature of the ocean water.",
    "He forgot his umbrella on the train this morning.",
    "The baby laughed when the cat jumped onto the sofa.",
    "Volunteers cleaned the beach and collected plastic bottles.",
    "The queen visited the castle with her royal guards.",
    "My brother is learning to play the guitar.",
]
PAUSE_SECONDS = 2.9
HEARD = 0.4  # of a sentence's content words at least, spelt alike (see real_weights.overlap)


def test_english_speech_is_transcribed(base_engine, hear):
    for sentence in ENGLISH:
        transcript = base_engine.transcribe(hear(sentence), Options())
        assert transcript.language == "en"
        assert overlap(sentence, transcript.text) >= 0.8, (sentence, transcript.text)


def test_max_tokens_ends_the_decoding_there(base_engine, hear):
    """Live passes bound their decoding so that a repetition loop cannot run for 448 tokens."""
    full = base_engine.transcribe(hear(ENGLISH[0]), Options(language="en", words=False))
    short = base_engine.transcribe(hear(ENGLISH[0]), Options(language="en", words=False, max_tokens=4))
    assert len(short.text.split()) < len(full.text.split())
    assert full.text.startswith(short.text.rstrip(".,")), (short.text, full.text)


@pytest.mark.parametrize("language", sorted(OTHER_LANGUAGES))
def test_the_language_is_detected(base_engine, hear, language):
    sentence = OTHER_LANGUAGES[language]
    transcript = base_engine.transcribe(hear(sentence, voice=language), Options())
    assert transcript.language == language, transcript
    heard = set(words(transcript.text))
    assert len(heard & set(words(sentence))) >= 3, (sentence, transcript.text)  # in that language, not translated


def test_german_speech_is_translated_into_english(base_engine, hear):
    transcript = base_engine.transcribe(hear(OTHER_LANGUAGES["de"], voice="de"), Options(task="translate"))
    heard = set(words(transcript.text))
    assert {"morning", "library"} <= heard, transcript.text
    assert not {"guten", "morgen", "bibliothek", "ich"} & heard, transcript.text


def test_three_minutes_of_speech_lose_no_sentence_at_the_window_seams(base_engine, hear):
    """Every sentence is found where it was spoken: the segments over its time hold most of its
    words (a sentence that starts right at a window's edge is the hardest to hear)."""
    pause = np.zeros(int(16_000 * PAUSE_SECONDS), np.float32)
    clips = [hear(sentence) for sentence in LONG_FORM]
    audio = np.concatenate([part for clip in clips for part in (clip, pause)])
    assert len(audio) / 16_000 >= 175
    transcript = base_engine.transcribe(audio, Options(language="en"))
    segments = transcript.segments
    assert segments and all(s.start <= s.end for s in segments)
    assert all(a.start <= b.start and a.end <= b.start + 0.01 for a, b in itertools.pairwise(segments)), segments
    assert segments[-1].end <= transcript.duration
    missing, start = [], 0.0
    for sentence, clip in zip(LONG_FORM, clips):
        end = start + len(clip) / 16_000
        there = " ".join(s.text for s in segments if s.start < end + 1 and s.end > start - 1)
        if overlap(sentence, there) < HEARD:
            missing.append((round(start, 1), sentence, there))
        start = end + PAUSE_SECONDS
    assert not missing, missing
    spoken = sum(len(words(s)) for s in LONG_FORM)
    assert len(words(transcript.text)) <= 1.1 * spoken, "words doubled at a seam: " + transcript.text
    assert overlap(" ".join(LONG_FORM), transcript.text) >= 0.85, transcript.text


def test_noise_gives_no_invented_text_and_silence_never_reaches_the_model(base_engine):
    """Whisper invents "you" on digital silence (whisper-base, int8 and float32 alike), so
    Hush's job queue answers silence without the model (``jobs.is_silent``); noise, quiet or
    loud, does reach it and must come back empty."""
    from backend.history import jobs

    rng = np.random.default_rng(7)
    assert jobs.is_silent(np.zeros(16_000 * 10, np.float32))
    for level in (0.002, 0.3):  # about -54 dBFS (a quiet room's hiss) and a loud rush
        noise = (rng.standard_normal(16_000 * 10) * level).astype(np.float32)
        assert not jobs.is_silent(noise)
        assert base_engine.transcribe(noise, Options()).text == ""
