"""Word error rate: the one definition the trainer, the benchmark and the tests share.

Both sides are normalised the same way (lower case, punctuation dropped), then compared
word by word with the Levenshtein distance (substitutions + deletions + insertions).
"""

from __future__ import annotations


def normalise(text: str) -> list[str]:
    """Lower-case words, punctuation dropped."""
    return "".join(c if c.isalnum() or c.isspace() else " " for c in text.lower()).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Word-level Levenshtein distance."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (r != h))
    return row[-1]


def wer(refs: list[str], hyps: list[str]) -> tuple[float, int, int]:
    """(WER, errors, reference words) over pairs of transcripts."""
    errors = sum(edit_distance(normalise(r), normalise(h)) for r, h in zip(refs, hyps, strict=True))
    words = sum(len(normalise(r)) for r in refs)
    return errors / max(words, 1), errors, words
