// Corrections of a stored transcript (ui/corrections.js) against a stubbed API: run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError } from "../../ui/api.js";
import { createCorrections } from "../../ui/corrections.js";

/** An API whose answers the test gives, one pending promise per request. */
function stubApi() {
  const calls = [];
  const answer = (name) => (...args) =>
    new Promise((resolve, reject) => calls.push({ name, args, resolve, reject }));
  return { calls, api: { correctSegment: answer("correct"), revertSegment: answer("revert") } };
}

function job(text, original = null) {
  return { id: "j1", status: "done", text, segments: [{ start: 0, end: 1, text, words: [], original }] };
}

test("a correction is sent for the item's job and the item shows the server's answer", async () => {
  const { api, calls } = stubApi();
  const changed = [];
  const corrections = createCorrections({ api, events: { changed: (item) => changed.push(item.result.text) } });
  const item = { jobId: "j1", result: job("three seven") };
  const saving = corrections.correct(item, 0, "three eleven");
  assert.deepEqual(calls[0].args, ["j1", 0, "three eleven"]);
  calls[0].resolve(job("three eleven", "three seven"));
  await saving;
  assert.equal(item.result.segments[0].original, "three seven");
  assert.deepEqual(changed, ["three eleven"]);

  const reverting = corrections.revert(item, 0);
  assert.deepEqual([calls[1].name, ...calls[1].args], ["revert", "j1", 0]);
  calls[1].resolve(job("three seven"));
  await reverting;
  assert.equal(item.result.text, "three seven");
});

test("an older answer never replaces a newer one", async () => {
  const { api, calls } = stubApi();
  const corrections = createCorrections({ api });
  const item = { jobId: "j1", result: job("a") };
  const first = corrections.correct(item, 0, "b");
  const second = corrections.correct(item, 0, "c");
  calls[1].resolve(job("c", "a"));
  await second;
  calls[0].resolve(job("b", "a"));
  await first;
  assert.equal(item.result.text, "c");
});

test("a failed correction is reported and the item is drawn again as it was", async () => {
  const { api, calls } = stubApi();
  const events = [];
  const corrections = createCorrections({
    api,
    events: { error: (error) => events.push(error.detail), changed: (item) => events.push(item.result.text) },
  });
  const item = { jobId: "j1", result: job("a") };
  const saving = corrections.correct(item, 0, "b");
  calls[0].reject(new ApiError("http", "x", { status: 409, detail: "This transcription is running." }));
  await saving;
  assert.deepEqual(events, ["This transcription is running.", "a"]);
});
