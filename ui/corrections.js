// A person's corrections of a transcript the server keeps: each is sent at once, and the
// item's transcript becomes the server's answer (the corrected text, the model's original,
// the words placed again). No DOM: node tests drive it with a stubbed API.

/**
 * `api`: the functions of api.js this needs (correctSegment, revertSegment). `events`:
 * changed(item) once the item shows the server's transcript again (after an answer, or
 * after a failure, to put the old text back), error(error) when a request failed.
 */
export function createCorrections({ api, events = {} }) {
  const emit = (name, ...args) => events[name]?.(...args);
  const sent = new WeakMap(); // item → how many requests were sent for it
  const applied = new WeakMap(); // item → the latest request whose answer it shows

  async function send(item, request) {
    const number = (sent.get(item) || 0) + 1;
    sent.set(item, number);
    try {
      const job = await request();
      // Answers come back in order (the server realigns one after the other); never show an older one.
      if (number > (applied.get(item) || 0) && job.status === "done") {
        applied.set(item, number);
        item.result = job;
      }
    } catch (error) {
      emit("error", error);
    }
    emit("changed", item);
  }

  /** Save `text` as segment `index` of the item's stored transcript. */
  function correct(item, index, text) {
    return send(item, () => api.correctSegment(item.jobId, index, text));
  }

  /** Segment `index` as the model wrote it again. */
  function revert(item, index) {
    return send(item, () => api.revertSegment(item.jobId, index));
  }

  return { correct, revert };
}
