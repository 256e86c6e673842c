// What the dictation indicator shows for each message the window app sends it: while Hush listens,
// the newest words of the live text, the meter (from silence at each new dictation) and the cancel
// button; otherwise the message whole ("Typing…", or what to do when the text could not be typed).

export const TAIL_CHARS = 150;

/** `text` cut to its newest `max` characters, at a word, with "…" in front when cut. */
export function tail(text, max = TAIL_CHARS) {
  if (text.length <= max) return text;
  const end = text.slice(-max);
  const space = end.indexOf(" ");
  return "…" + (space >= 0 && space < end.length - 1 ? end.slice(space + 1) : end);
}

/**
 * `show({text, hint, level})`: `level` (0…1) means Hush listens; null means it does not (typing, a
 * problem). Returns what to draw: {text, hint, level, restartMeter, cancellable}.
 */
export function createIndicatorState() {
  let listening = false;
  return {
    show({ text, hint = null, level = null }) {
      const restartMeter = level !== null && !listening;
      listening = level !== null;
      return { text: listening ? tail(text) : text, hint: hint || null, level, restartMeter, cancellable: listening };
    },
    hide() {
      listening = false;
    },
  };
}
