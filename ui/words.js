// The words of a transcript in time: where each lies in its segment's text, which one is
// being spoken, which ones the model was unsure of, and what a person's edit amounts to.
// No DOM: node tests drive it.

/** Below this probability the model was unsure of a word, and the page marks it (subtly). */
export const UNSURE_BELOW = 0.5;

/**
 * A segment's `text` cut into runs: `{text, word}` where `word` is the index in `words` of
 * the word the run shows, or -1 for what lies between words (spaces). Words are found in
 * order; a word that is not in the text is left out, so the text always reads as it is.
 */
export function wordRuns(text, words = []) {
  const runs = [];
  let cursor = 0;
  words.forEach((word, index) => {
    const at = word.word ? text.indexOf(word.word, cursor) : -1;
    if (at < 0) return;
    if (at > cursor) runs.push({ text: text.slice(cursor, at), word: -1 });
    runs.push({ text: word.word, word: index });
    cursor = at + word.word.length;
  });
  if (cursor < text.length) runs.push({ text: text.slice(cursor), word: -1 });
  return runs;
}

/**
 * The index in `words` (sorted by start, as the server sends them) of the word being
 * spoken at `seconds`, or -1 between words and outside them.
 */
export function wordAt(words, seconds) {
  let low = 0;
  let high = words.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (words[middle].start <= seconds) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found >= 0 && seconds < words[found].end ? found : -1;
}

/** Whether the model was unsure of `word`; a segment a person corrected has no unsure words. */
export function isUnsure(word, corrected = false) {
  return !corrected && typeof word.probability === "number" && word.probability < UNSURE_BELOW;
}

/**
 * What an edit of a segment amounts to: `{save: text}` for a new text (its runs of spaces
 * made one), or `{cancel: true}` when nothing changed or nothing is left.
 */
export function editOutcome(before, typed) {
  const text = typed.replace(/\s+/g, " ").trim();
  return text && text !== before ? { save: text } : { cancel: true };
}
