// Dictation into other apps. The shortcut, the tray or `hush dictate` start, finish or cancel it
// through the window app ("hush:dictate"); this module records the microphone meanwhile and sends
// the clip to the server, which stores it, transcribes it and types the text where the user types.
//
//   phase:  idle → opening → recording → idle      ("stop" or "cancel" while opening waits for it)
//
// Sending goes on in the background (`sending` counts the clips on their way), so the next
// dictation can start at once. While the model loads the server answers 503: the clip waits and
// is sent again, so a dictation spoken during the start is typed once the model is ready.

/**
 * `openRecorder()` resolves with a recording recorder ({stop() → {blob, extension} | null});
 * `api.sendDictation(blob, filename, {cancelled})` → {id, status, text, delivery: {method, message}}.
 * `events.changed()` hears every change, `events.sent(result)` each answer, `events.error(error)` failures.
 * `wait(seconds)` is the pause before a clip is sent again (a timer; tests pass their own).
 */
export function createDictation({ api, openRecorder, events = {}, wait = sleep }) {
  const { changed = () => {}, sent = () => {}, error = () => {} } = events;
  const state = { phase: "idle", sending: 0, last: null };
  let recorder = null;
  let pending = null; // "stop" or "cancel" asked for while the microphone was opening

  async function start() {
    if (state.phase !== "idle") return;
    state.phase = "opening";
    pending = null;
    changed();
    try {
      recorder = await openRecorder();
    } catch (problem) {
      state.phase = "idle";
      changed();
      error(problem);
      return;
    }
    state.phase = "recording";
    changed();
    if (pending) await finish(pending === "cancel");
  }

  async function finish(cancelled) {
    if (state.phase === "opening") {
      pending = cancelled ? "cancel" : "stop";
      return;
    }
    if (state.phase !== "recording") return;
    const finishing = recorder;
    recorder = null;
    state.phase = "idle";
    state.sending += 1;
    changed();
    try {
      const recorded = await finishing.stop();
      if (recorded && recorded.blob.size > 0) await send(recorded, cancelled);
    } catch (problem) {
      error(problem);
    } finally {
      state.sending -= 1;
      changed();
    }
  }

  async function send(recorded, cancelled) {
    for (;;) {
      try {
        state.last = await api.sendDictation(recorded.blob, `dictation.${recorded.extension}`, { cancelled });
        sent(state.last);
        return;
      } catch (problem) {
        if (problem?.status !== 503) throw problem;
        await wait(problem.retryAfter ?? 1);
      }
    }
  }

  /** What the window app asked for: "start", "stop" (then send) or "cancel" (sent, marked cancelled). */
  function handle(action) {
    if (action === "start") return start();
    if (action === "stop") return finish(false);
    if (action === "cancel") return finish(true);
    return undefined;
  }

  return { state, handle };
}

function sleep(seconds) {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}
