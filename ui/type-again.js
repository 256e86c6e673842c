// "Type again" for a dictation in the history: after a countdown the person can see (time to click
// into the app the text should go to), the window app types the stored text (as corrected) there.
//
//   per job:  idle → counting (left: seconds … 1) → typing → idle      pressing again while counting stops it

export const COUNTDOWN_SECONDS = 3;

/**
 * `api.typeAgain(id)` → {method, message}. `events.changed()` hears every change, `events.typed(delivery)`
 * each answer, `events.error(error)` failures. `wait(seconds)` is one tick of the countdown (tests pass their own).
 * Returns {state: {id, phase, left}, press(job), label(job)}.
 */
export function createTypeAgain({ api, events = {}, seconds = COUNTDOWN_SECONDS, wait = sleep }) {
  const { changed = () => {}, typed = () => {}, error = () => {} } = events;
  const state = { id: null, phase: "idle", left: 0 };
  let run = 0; // the countdown under way; pressing again starts another and this one gives up

  async function press(job) {
    if (state.phase === "typing") return;
    const counting = state.phase === "counting" && state.id === job.id;
    run += 1;
    Object.assign(state, counting ? { id: null, phase: "idle", left: 0 } : { id: job.id, phase: "counting", left: seconds });
    changed();
    if (counting) return;
    const mine = run;
    while (state.left > 0) {
      await wait(1);
      if (run !== mine) return;
      state.left -= 1;
      if (state.left > 0) changed();
    }
    state.phase = "typing";
    changed();
    try {
      typed(await api.typeAgain(job.id));
    } catch (problem) {
      error(problem);
    } finally {
      Object.assign(state, { id: null, phase: "idle", left: 0 });
      changed();
    }
  }

  /** What the job's button says now. */
  function label(job) {
    if (state.id !== job.id) return "Type again";
    return state.phase === "typing" ? "Typing…" : `Typing in ${state.left}… (stop)`;
  }

  return { state, press, label };
}

function sleep(seconds) {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}
