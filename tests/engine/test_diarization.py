"""backend/engine/diarization.py: clustering voice prints, speaker turns, segments split by speaker (numpy only)."""

from __future__ import annotations

import time

import numpy as np

from backend.engine import diarization
from backend.engine.diarization import Turn
from backend.transcript import Segment, Word


def voices(counts: list[int], spread: float = 0.35, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Voice prints of ``len(counts)`` made-up voices (a direction each, noise around it), and who is who."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(counts), 256))
    prints, truth = [], []
    for voice, count in enumerate(counts):
        prints.append(centres[voice] + spread * np.linalg.norm(centres[voice]) / 16 * rng.normal(size=(count, 256)))
        truth += [voice] * count
    found = np.concatenate(prints)
    return found / np.linalg.norm(found, axis=1, keepdims=True), np.array(truth)


def same_grouping(labels: np.ndarray, truth: np.ndarray) -> bool:
    pairs = {(int(a), int(b)) for a, b in zip(labels, truth)}
    return len(pairs) == len(set(labels.tolist())) == len(set(truth.tolist()))


def test_the_eigengap_finds_how_many_voices_there_are():
    for counts in ([60, 40], [30, 50, 20], [25, 25, 25, 25]):
        prints, truth = voices(counts)
        labels = diarization.cluster(prints)
        assert same_grouping(labels, truth), counts


def test_one_voice_is_one_speaker():
    prints, _ = voices([80])
    assert set(diarization.cluster(prints).tolist()) == {0}


def test_a_given_count_and_bounds_are_kept():
    prints, truth = voices([40, 40, 40])
    assert len(set(diarization.cluster(prints, count=2).tolist())) == 2
    assert len(set(diarization.cluster(prints, most=2).tolist())) == 2
    assert same_grouping(diarization.cluster(prints, count=3), truth)


def test_an_hour_of_windows_clusters_a_bounded_sample_and_assigns_the_rest():
    prints, truth = voices([2600, 1900])  # an hour of windows every 0.8 s
    started = time.perf_counter()
    labels = diarization.cluster(prints)
    assert same_grouping(labels, truth)
    assert time.perf_counter() - started < 30  # a full 4500² affinity and its eigenvectors would be far slower


def test_windows_stay_inside_each_stretch_of_speech_and_skip_clicks():
    found = diarization.windows([(0.0, 4.0), (5.0, 5.1), (6.0, 7.0)])
    assert found[0].tolist() == [0.0, diarization.WINDOW]
    assert abs(found[-2][1] - 4.0) < 1e-9  # the last full window is flush with the stretch's end
    assert found[-1].tolist() == [6.0, 7.0]  # a short stretch: one window of its own
    assert not any(a < 6.0 < b or a < 4.0 < b for a, b in found)  # none crosses a pause
    assert not any(5.0 <= a < 5.1 for a, _ in found)  # the 0.1 s click has none


def test_turns_change_at_the_pause_and_short_turns_do_not_shatter_them():
    spans = [(0.0, 9.7), (10.1, 21.6)]  # two speakers, one after the other, a pause between
    found = diarization.windows(spans)
    labels = np.array([7 if b <= 9.7 else 3 for _, b in found])
    labels[3] = 3  # one stray window inside the first speaker's turn
    turns = diarization.turns(found, labels, spans)
    assert [t.speaker for t in turns] == [1, 2]  # numbered by first appearance
    assert abs(turns[0].end - 9.7) < 0.06 and abs(turns[1].start - 10.1) < 0.06


def test_a_segment_is_cut_where_its_words_change_speaker():
    words = (
        Word(0.0, 0.5, "Hello", 0.9),
        Word(0.6, 1.0, "there.", 0.9),
        Word(2.1, 2.5, "Hi", 0.9),
        Word(2.6, 3.0, "Anna.", 0.9),
    )
    segment = Segment(0.0, 3.2, "Hello there. Hi Anna.", words)
    found = [Turn(0.0, 1.8, 1), Turn(1.8, 3.5, 2)]
    parts = diarization.split_by_speaker(segment, found)
    assert [(p.text, p.speaker, p.start, p.end) for p in parts] == [
        ("Hello there.", 1, 0.0, 1.0),
        ("Hi Anna.", 2, 2.1, 3.2),
    ]
    assert [w.word for w in parts[1].words] == ["Hi", "Anna."]
    (whole,) = diarization.split_by_speaker(segment, found, whole=True)
    assert whole.text == segment.text and whole.speaker in (1, 2)


def test_labels_are_numbered_by_first_appearance_in_the_text():
    segments = [Segment(0.0, 2.0, "One."), Segment(2.0, 4.0, "Two."), Segment(4.0, 6.0, "Three.")]
    found = [Turn(0.0, 2.0, 2), Turn(2.0, 4.0, 1), Turn(4.0, 6.0, 2)]
    parts = diarization.label(segments, found)
    assert [p.speaker for group in parts for p in group] == [1, 2, 1]
