import assert from "node:assert/strict";
import { test } from "node:test";

import { createDictation } from "../../ui/dictation.js";

/** A recorder that records until stopped; `opened` resolves the microphone's opening when the test says. */
function fakes({ answers = [] } = {}) {
  const sent = [];
  const waits = [];
  let openMicrophone;
  const opened = new Promise((resolve) => (openMicrophone = resolve));
  const recorder = { stopped: 0, stop: async () => ({ blob: { size: 9 }, extension: "webm", stopped: ++recorder.stopped }) };
  const api = {
    sendDictation: async (blob, filename, { cancelled }) => {
      sent.push({ filename, cancelled });
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      return answer || { id: "j1", status: cancelled ? "cancelled" : "done", text: "hello", delivery: { method: "typed" } };
    },
  };
  const results = [];
  const dictation = createDictation({
    api,
    openRecorder: async () => {
      await opened;
      return recorder;
    },
    events: { sent: (result) => results.push(result) },
    wait: async (seconds) => waits.push(seconds),
  });
  return { dictation, sent, waits, results, recorder, openMicrophone };
}

test("start records, stop sends the clip and goes back to idle", async () => {
  const { dictation, sent, results, openMicrophone } = fakes();
  const starting = dictation.handle("start");
  assert.equal(dictation.state.phase, "opening");
  openMicrophone();
  await starting;
  assert.equal(dictation.state.phase, "recording");
  await dictation.handle("stop");
  assert.equal(dictation.state.phase, "idle");
  assert.deepEqual(sent, [{ filename: "dictation.webm", cancelled: false }]);
  assert.equal(results[0].text, "hello");
  assert.equal(dictation.state.sending, 0);
});

test("cancel sends the clip marked cancelled; a stop with nothing recording does nothing", async () => {
  const { dictation, sent, openMicrophone } = fakes();
  await dictation.handle("stop");
  assert.deepEqual(sent, []);
  openMicrophone();
  await dictation.handle("start");
  await dictation.handle("cancel");
  assert.deepEqual(sent, [{ filename: "dictation.webm", cancelled: true }]);
});

test("a stop while the microphone opens finishes the dictation once it is open", async () => {
  const { dictation, sent, openMicrophone } = fakes();
  const starting = dictation.handle("start");
  await dictation.handle("stop");
  assert.deepEqual(sent, []);
  openMicrophone();
  await starting;
  assert.equal(dictation.state.phase, "idle");
  assert.deepEqual(sent, [{ filename: "dictation.webm", cancelled: false }]);
});

test("while the model loads (503) the clip waits and is sent again", async () => {
  const loading = Object.assign(new Error("loading"), { status: 503, retryAfter: 2 });
  const { dictation, sent, waits, results, openMicrophone } = fakes({ answers: [loading, loading] });
  openMicrophone();
  await dictation.handle("start");
  await dictation.handle("stop");
  assert.equal(sent.length, 3);
  assert.deepEqual(waits, [2, 2]);
  assert.equal(results.length, 1);
});

test("another failure is reported and the next dictation can start", async () => {
  const errors = [];
  const dictation = createDictation({
    api: { sendDictation: async () => Promise.reject(Object.assign(new Error("bad"), { status: 400 })) },
    openRecorder: async () => ({ stop: async () => ({ blob: { size: 3 }, extension: "ogg" }) }),
    events: { error: (e) => errors.push(e.message) },
  });
  await dictation.handle("start");
  await dictation.handle("stop");
  assert.deepEqual(errors, ["bad"]);
  await dictation.handle("start");
  assert.equal(dictation.state.phase, "recording");
});
