// A person's edits of a transcript the server keeps (corrections, speakers): each request is
// answered with the whole stored job, and the item shows the answer to its newest request only,
// whatever order the answers arrive in. No DOM.

/**
 * `emit(name, ...args)`: how the caller's events are told: changed(item) once the item shows the
 * server's answer (or, after a failure, what it showed), error(error) when a request failed.
 * Returns `send(item, request)`, where `request()` asks the server and resolves to the job.
 */
export function createEdits(emit) {
  const sent = new WeakMap(); // item → how many requests were sent for it
  const applied = new WeakMap(); // item → the latest request whose answer it shows

  return async function send(item, request) {
    const number = (sent.get(item) || 0) + 1;
    sent.set(item, number);
    try {
      const job = await request();
      if (number > (applied.get(item) || 0) && job.status === "done") {
        applied.set(item, number);
        item.result = job;
      }
    } catch (error) {
      emit("error", error);
    }
    emit("changed", item);
  };
}
