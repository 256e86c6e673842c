// A person's corrections of a transcript the server keeps: each is sent at once, and the
// item's transcript becomes the server's answer (the corrected text, the model's original,
// the words placed again). No DOM: node tests drive it with a stubbed API.
import { createEdits } from "./edits.js";

/**
 * `api`: the functions of api.js this needs (correctSegment, revertSegment). `events`:
 * changed(item) once the item shows the server's transcript again (after an answer, or
 * after a failure, to put the old text back), error(error) when a request failed.
 */
export function createCorrections({ api, events = {} }) {
  const emit = (name, ...args) => events[name]?.(...args);
  const send = createEdits(emit);

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
