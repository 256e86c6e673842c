// What the dictation indicator over the other app shows while Hush listens: the microphone's level
// and the live text, sent to the window app (PUT /api/desktop/dictation/progress) as they change.
//
// The level is taken from the live text's PCM packets, not from animation frames: the page records
// while its window is in the background, where browsers stop animation frames and slow timers.
// At most one message every `intervalMs`, and never two at once (a slow answer skips a beat); of a
// long dictation's text only the newest `TAIL_CHARS` go (the indicator shows the newest words).

export const TAIL_CHARS = 1000;

/** The level of 16-bit PCM (an ArrayBuffer) on the page meter's scale: -60 dBFS … 0 dBFS → 0 … 1. */
export function pcmLevel(packet) {
  const samples = new Int16Array(packet);
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const sample of samples) sum += (sample / 32768) ** 2;
  const db = 20 * Math.log10(Math.sqrt(sum / samples.length) + 1e-9);
  return Math.min(1, Math.max(0, (db + 60) / 60));
}

/**
 * `send({level, text})` returns a promise (its failure is ignored: the indicator is a nicety).
 * Returns {pcm(packet), text(value), stop()}: `stop()` sends nothing more.
 */
export function createDictationProgress({ send, intervalMs = 100, now = () => performance.now() }) {
  let peak = 0;
  let text = "";
  let sentAt = -Infinity;
  let sending = false;
  let stopped = false;

  async function flush() {
    sending = true;
    sentAt = now();
    const message = { level: Math.round(peak * 1000) / 1000, text };
    peak = 0;
    try {
      await send(message);
    } catch {
      // the next packet tries again
    } finally {
      sending = false;
    }
  }

  return {
    pcm(packet) {
      if (stopped) return;
      peak = Math.max(peak, pcmLevel(packet));
      if (!sending && now() - sentAt >= intervalMs) flush();
    },
    text(value) {
      text = value.length > TAIL_CHARS ? value.slice(-TAIL_CHARS) : value;
    },
    stop() {
      stopped = true;
    },
  };
}
