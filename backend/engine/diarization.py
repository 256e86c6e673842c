"""Who speaks when: voice prints of windows over the speech clustered into speakers, the clusters
turned into speaker turns, and a transcript's segments split where the speaker changes.

numpy only (the voice prints come from ``voices.py``), so every step is tested without torch.

- **Windows**: 1.6 s (what the voice encoder was trained on) every ``HOP`` s inside each stretch
  of speech Silero finds (so no window mixes two voices across a pause); a shorter stretch is one
  window of its own.
- **Clustering**: spectral clustering with the speaker count from the eigengap, its one knob (how
  many neighbours each window keeps in the affinity graph) tuned per recording as NME-SC does
  (Park et al., "Auto-Tuning Spectral Clustering for Speaker Diarization Using Normalized Maximum
  Eigengap", 2019): the count of near-zero eigenvalues of the graph's Laplacian is the number
  of speakers. At most ``MOST_CLUSTERED`` windows are clustered (evenly spread over the
  recording); every window then goes to the nearest speaker's mean voice, so an hour costs the
  clustering of ten minutes plus a matrix product: linear in the length, not quadratic.
- **Turns**: every 50 ms of a stretch of speech belongs to the nearest window inside it (a change
  of voice at a pause lands on the pause); turns shorter than ``MIN_TURN`` go to their
  neighbours, so a cough or a short overlap does not shatter the text.
- **Segments**: each word gets the speaker of the turn it overlaps most; a segment is split
  where its words' speaker changes, a segment without words goes whole to its main speaker.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from backend.transcript import Segment

WINDOW = 1.6
#: Windows follow each other without overlap: overlapping ones (0.8 s apart) cost a quarter more and
#: told speakers apart no better on the benchmark's conversations (turns change at pauses anyway).
HOP = 1.6
#: Windows clustered at most; the others are assigned to the clusters found.
MOST_CLUSTERED = 500
#: The grid turns are drawn on.
STEP = 0.05
#: Turns shorter than this (seconds) inside a stretch of speech (one window heard as another voice) are
#: given to the speakers around them: on the pyannote sample 1.0 s and 1.7 s scored 5.4 % and 3.2 % DER,
#: 2.0 s 9.5 % (real changes of voice inside a stretch were lost).
MIN_TURN = HOP + 0.1
#: Stretches of speech shorter than this get no window of their own (a click, a breath).
MIN_SPEECH = 0.3
#: How much of each row of the affinity graph may be kept (NME-SC's largest search ratio).
MOST_NEIGHBOURS = 0.25
#: Two clusters whose voice prints are on average this alike (cosine) are one speaker's.
SAME_VOICE = 0.68
#: A cluster of fewer windows than this is no speaker of its own (``absorb_stray``).
FEWEST_WINDOWS = 3
#: Fewer windows than this (about 8 s of speech) are clustered agglomeratively: the eigengap of so
#: small a graph says nothing.
FEWEST_FOR_SPECTRAL = 10
#: The eigengap is looked for among this many speakers at least (then held to the bounds asked for).
ESTIMATED = 10
#: How many neighbour counts NME-SC tries.
SEARCHES = 20


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: int


# -- windows ------------------------------------------------------------------------------------
def windows(spans: Iterable[tuple[float, float]], hop: float = HOP) -> np.ndarray:
    """The windows to embed, ``(start, end)`` seconds, each inside one stretch of speech: every ``hop`` s
    over a stretch, the last flush with its end; a stretch shorter than a window is one window of its
    own length (the encoder hears it repeated to 1.6 s, never a neighbour's voice)."""
    found: list[tuple[float, float]] = []
    for start, end in spans:
        if end - start < MIN_SPEECH:
            continue
        if end - start <= WINDOW:
            found.append((start, end))
            continue
        starts = list(np.arange(start, end - WINDOW, hop))
        if end - WINDOW - starts[-1] > hop / 4:
            starts.append(end - WINDOW)
        found += [(s, s + WINDOW) for s in starts]
    return np.asarray(found, dtype=np.float64).reshape(-1, 2)


# -- clustering ---------------------------------------------------------------------------------
def cluster(prints: np.ndarray, count: int | None = None, least: int = 1, most: int = 8) -> np.ndarray:
    """A speaker (0, 1, …) for each voice print (rows of length 1): ``count`` speakers, or as many as
    the eigengap says between ``least`` and ``most``."""
    n = len(prints)
    if n == 0:
        return np.zeros(0, dtype=int)
    most = max(1, min(most, n))
    least = max(1, min(least, most))
    if count is not None:
        least = most = max(1, min(count, n))
    if most == 1 or n < 3:
        return np.zeros(n, dtype=int)
    chosen = np.linspace(0, n - 1, min(n, MOST_CLUSTERED)).round().astype(int)
    sample = prints[np.unique(chosen)]
    if len(sample) >= FEWEST_FOR_SPECTRAL:
        labels = spectral(sample @ sample.T, least, most)
        if count is None:
            labels = merge_alike(sample, labels, least)
    else:
        labels = merge_alike(sample, np.arange(len(sample)), least, most)
    if count is None:
        labels = absorb_stray(sample, labels, least)
    centres = mean_voices(sample, labels)
    return np.argmax(prints @ centres.T, axis=1)


def mean_voices(prints: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each cluster's mean voice print, of length 1."""
    centres = np.stack([prints[labels == k].mean(axis=0) for k in range(labels.max() + 1)])
    return centres / np.linalg.norm(centres, axis=1, keepdims=True).clip(1e-8)


def merge_alike(prints: np.ndarray, labels: np.ndarray, least: int, most: int | None = None) -> np.ndarray:
    """Clusters joined while their voice prints are on average at least ``SAME_VOICE`` alike (cosine,
    average linkage), the closest pair first, never below ``least`` clusters (and always down to
    ``most``). After spectral clustering it joins the halves of a lone voice, which the eigengap
    splits when there is nothing else to split; from one cluster per window it is agglomerative
    clustering, for recordings too short for the eigengap to mean much."""
    labels = np.unique(labels, return_inverse=True)[1]
    members = np.eye(labels.max() + 1)[labels]  # window × cluster
    total = members.T @ (prints @ prints.T) @ members  # summed similarity of every pair of clusters
    sizes = members.sum(axis=0)
    alive = np.ones(len(sizes), dtype=bool)

    def average() -> np.ndarray:
        found = total / np.outer(sizes, sizes)
        found[~alive, :] = found[:, ~alive] = -np.inf
        np.fill_diagonal(found, -np.inf)
        return found

    while alive.sum() > least:
        alike = average()
        a, b = np.unravel_index(int(np.argmax(alike)), alike.shape)
        if alike[a, b] < SAME_VOICE and (most is None or alive.sum() <= most):
            break
        a, b = min(a, b), max(a, b)
        labels[labels == b] = a
        total[a, :] += total[b, :]
        total[:, a] += total[:, b]
        sizes[a] += sizes[b]
        alive[b] = False
    return np.unique(labels, return_inverse=True)[1]


def absorb_stray(prints: np.ndarray, labels: np.ndarray, least: int) -> np.ndarray:
    """A cluster of fewer than ``FEWEST_WINDOWS`` windows (a cough, a laugh, a line said oddly) joined to
    the cluster its prints are most alike on average, the smallest first, never below ``least``:
    a "speaker" heard for a second or two would only shatter the transcript."""
    while True:
        sizes = np.bincount(labels)
        small = [k for k in np.argsort(sizes) if sizes[k] < FEWEST_WINDOWS]
        if not small or len(sizes) <= least:
            return labels
        stray = small[0]
        alike = [
            (prints[labels == stray] @ prints[labels == k].T).mean() if k != stray else -np.inf
            for k in range(len(sizes))
        ]
        labels = np.where(labels == stray, int(np.argmax(alike)), labels)
        labels = np.unique(labels, return_inverse=True)[1]


def spectral(similarity: np.ndarray, least: int, most: int) -> np.ndarray:
    """NME-SC over a cosine-similarity matrix: the neighbour count whose graph has the clearest
    eigengap (relative to how many neighbours it keeps), its number of speakers (held between
    ``least`` and ``most``: more voices than ``most`` are told apart as ``most``), and k-means on the
    rows of the normalised Laplacian's first eigenvectors (Ng, Jordan and Weiss: a window weakly tied
    to the rest does not get a cluster of its own, as with the unnormalised one)."""
    n = len(similarity)
    seen = min(max(most, ESTIMATED), n - 1)  # the eigengap is looked for up to here, then held in bounds
    scaled = (similarity - similarity.min()) / max(similarity.max() - similarity.min(), 1e-8)
    np.fill_diagonal(scaled, 1.0)
    order = np.argsort(-scaled, axis=1)
    best: tuple[float, int, np.ndarray] | None = None
    largest = max(2, int(n * MOST_NEIGHBOURS))
    for p in np.unique(np.linspace(2, largest, SEARCHES).round().astype(int)):
        values, vectors = laplacian_spectrum(pruned(scaled, order, p))
        gaps = np.diff(values[: seen + 1])
        if len(gaps) == 0:
            continue
        k = 1 + int(np.argmax(gaps))
        ratio = (p / n) / (gaps[k - 1] / max(values[-1], 1e-10) + 1e-10)
        if best is None or ratio < best[0]:
            best = (ratio, min(max(k, least), most), vectors)
    if best is None or best[1] == 1:
        return np.zeros(n, dtype=int)
    _, k, vectors = best
    rows = vectors[:, :k] / np.linalg.norm(vectors[:, :k], axis=1, keepdims=True).clip(1e-8)
    return kmeans(rows, k)


def pruned(scaled: np.ndarray, order: np.ndarray, keep: int) -> np.ndarray:
    """The affinity graph keeping each window's ``keep`` nearest neighbours (as ones), made symmetric."""
    graph = np.zeros_like(scaled)
    np.put_along_axis(graph, order[:, :keep], 1.0, axis=1)
    return (graph + graph.T) / 2


def laplacian_spectrum(graph: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The eigenvalues (ascending) and eigenvectors of the graph's normalised Laplacian
    ``I - D^-1/2 A D^-1/2``."""
    scale = 1 / np.sqrt(graph.sum(axis=1).clip(1e-10))
    return np.linalg.eigh(np.eye(len(graph)) - scale[:, None] * graph * scale[None, :])


def kmeans(points: np.ndarray, k: int, tries: int = 10, rounds: int = 100) -> np.ndarray:
    """Lloyd's k-means from k-means++ starts (a fixed seed: the same recording, the same speakers),
    the try with the least inertia."""
    rng = np.random.default_rng(0)
    best, best_inertia = np.zeros(len(points), dtype=int), np.inf
    for _ in range(tries):
        centres = [points[rng.integers(len(points))]]
        for _ in range(1, k):
            distance = np.min([np.sum((points - c) ** 2, axis=1) for c in centres], axis=0)
            total = distance.sum()
            pick = rng.choice(len(points), p=distance / total) if total > 0 else rng.integers(len(points))
            centres.append(points[pick])
        centre = np.array(centres)
        for _ in range(rounds):
            labels = np.argmin(((points[:, None, :] - centre[None]) ** 2).sum(axis=2), axis=1)
            moved = np.array([points[labels == j].mean(axis=0) if np.any(labels == j) else centre[j] for j in range(k)])
            if np.allclose(moved, centre):
                break
            centre = moved
        inertia = float(((points - centre[labels]) ** 2).sum())
        if inertia < best_inertia:
            best, best_inertia = labels, inertia
    return best


# -- turns --------------------------------------------------------------------------------------
def turns(found: np.ndarray, labels: np.ndarray, spans: Sequence[tuple[float, float]]) -> list[Turn]:
    """Speaker turns over the speech: each moment of a stretch belongs to the nearest window inside that
    stretch (so a change of voice at a pause is placed at the pause), of the nearest window at all in
    a stretch too short to have one; turns shorter than ``MIN_TURN`` go to their neighbours; speakers
    numbered 1, 2, … by first appearance."""
    if len(found) == 0:
        return []
    centres = found.mean(axis=1)
    order = np.argsort(centres)
    centres, labels = centres[order], labels[order]
    runs: list[list] = []  # [start, end, label, starts at a pause, ends at a pause]
    for start, end in spans:
        grid = np.arange(start, end, STEP)
        if not len(grid):
            continue
        inside = np.flatnonzero((centres >= start) & (centres <= end))
        pool = inside if len(inside) else np.arange(len(centres))
        nearest = pool[np.argmin(np.abs(grid[:, None] - centres[pool][None, :]), axis=1)]
        speaker = labels[nearest]
        changes = np.flatnonzero(np.diff(speaker)) + 1
        bounds = [0, *changes.tolist(), len(grid)]
        for a, b in itertools.pairwise(bounds):
            ends = b == len(grid)
            run = [float(grid[a]), float(end) if ends else float(grid[b]), int(speaker[a]), a == 0, ends]
            if runs and runs[-1][2] == run[2]:
                runs[-1][1], runs[-1][4] = run[1], run[4]
            else:
                runs.append(run)
    runs = absorb_short(runs)
    numbers: dict[int, int] = {}
    for run in runs:
        numbers.setdefault(run[2], len(numbers) + 1)
    return [Turn(round(a, 3), round(b, 3), numbers[label]) for a, b, label, *_ in runs]


def absorb_short(runs: list[list]) -> list[list]:
    """Turns shorter than ``MIN_TURN`` that change voice without a pause on both sides (a window or
    two heard as the other voice inside a stretch) merged into a neighbour (the longer one), shortest
    first; a short stretch of speech between pauses keeps its own voice (a "Yes." is a turn)."""
    runs = [list(r) for r in runs]
    while len(runs) > 1:
        short = [i for i, r in enumerate(runs) if r[1] - r[0] < MIN_TURN and not (r[3] and r[4])]
        if not short:
            break
        i = min(short, key=lambda k: runs[k][1] - runs[k][0])
        before = runs[i - 1] if i > 0 else None
        after = runs[i + 1] if i + 1 < len(runs) else None
        if before is not None and (after is None or before[1] - before[0] >= after[1] - after[0]):
            before[1], before[4] = runs[i][1], runs[i][4]
        else:
            after[0], after[3] = runs[i][0], runs[i][3]
        del runs[i]
        joined: list[list] = []
        for run in runs:
            if joined and joined[-1][2] == run[2]:
                joined[-1][1], joined[-1][4] = run[1], run[4]
            else:
                joined.append(run)
        runs = joined
    return runs


# -- segments -----------------------------------------------------------------------------------
def speaker_during(start: float, end: float, found: Sequence[Turn]) -> int | None:
    """The speaker of the turn overlapping ``start``–``end`` most (the nearest turn where none does)."""
    if not found:
        return None
    overlaps = [min(end, t.end) - max(start, t.start) for t in found]
    best = int(np.argmax(overlaps))
    if overlaps[best] > 0:
        return found[best].speaker
    middle = (start + end) / 2
    return min(found, key=lambda t: min(abs(middle - t.start), abs(middle - t.end))).speaker


def split_by_speaker(segment: Segment, found: Sequence[Turn], whole: bool = False) -> list[Segment]:
    """``segment`` cut where its words' speaker changes, each part with its speaker; ``whole``: not cut,
    the speaker of most of it (a person's corrected segment, whose index must stay)."""
    if whole or not segment.words:
        return [replace(segment, speaker=speaker_during(segment.start, segment.end, found))]
    speakers = [speaker_during(w.start, w.end, found) for w in segment.words]
    places = word_places(segment.text, segment.words)
    if len(set(speakers)) == 1 or places is None:
        return [replace(segment, speaker=majority(speakers, segment))]
    parts, first = [], 0
    for i in range(1, len(speakers) + 1):
        if i < len(speakers) and speakers[i] == speakers[first]:
            continue
        words = segment.words[first:i]
        cut_from = 0 if first == 0 else places[first]
        cut_to = len(segment.text) if i == len(speakers) else places[i]
        parts.append(
            Segment(
                segment.start if first == 0 else words[0].start,
                segment.end if i == len(speakers) else words[-1].end,
                segment.text[cut_from:cut_to].strip(),
                words,
                speaker=speakers[first],
            )
        )
        first = i
    return parts


def majority(speakers: list[int | None], segment: Segment) -> int | None:
    """The speaker of most of the segment's words' time."""
    time: dict[int | None, float] = {}
    for speaker, word in zip(speakers, segment.words):
        time[speaker] = time.get(speaker, 0.0) + max(word.end - word.start, 1e-3)
    return max(time, key=time.__getitem__)


def word_places(text: str, words: Sequence) -> list[int] | None:
    """Where each word starts in ``text``, found in order; ``None`` if one is not there."""
    places, cursor = [], 0
    for word in words:
        found = text.find(word.word, cursor) if word.word else -1
        if found < 0:
            return None
        places.append(found)
        cursor = found + len(word.word)
    return places


def label(
    segments: Sequence[Segment], found: Sequence[Turn], whole: frozenset[int] = frozenset()
) -> list[list[Segment]]:
    """Each segment's parts with their speakers (``whole``: the indices not to cut), the speakers
    numbered again 1, 2, … by their first appearance in the text."""
    parts = [split_by_speaker(s, found, i in whole) for i, s in enumerate(segments)]
    numbers: dict[int, int] = {}
    for piece in (p for group in parts for p in group):
        if piece.speaker is not None:
            numbers.setdefault(piece.speaker, len(numbers) + 1)
    return [[replace(p, speaker=numbers.get(p.speaker)) for p in group] for group in parts]
