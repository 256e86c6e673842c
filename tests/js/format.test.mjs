// Formatting and wording (ui/format.js, ui/messages.js): run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { formatBytes, formatClock, splitName } from "../../ui/format.js";
import { errorNotice, itemStatus, workingText } from "../../ui/messages.js";

test("formatBytes uses units of 1024, one decimal below 100", () => {
  assert.equal(formatBytes(0), "0 bytes");
  assert.equal(formatBytes(900), "900 bytes");
  assert.equal(formatBytes(1536), "1.5 KB");
  assert.equal(formatBytes(2 ** 20), "1 MB");
  assert.equal(formatBytes(1.3 * 2 ** 20), "1.3 MB");
  assert.equal(formatBytes(500e6), "477 MB");
  assert.equal(formatBytes(1024 * 2 ** 20), "1 GB");
});

test("formatClock and splitName", () => {
  assert.equal(formatClock(75.4), "1:15");
  assert.equal(formatClock(75.44, { tenths: true }), "1:15.4");
  assert.equal(formatClock(3725), "1:02:05");
  assert.deepEqual(splitName("memo.final.m4a"), { stem: "memo.final", extension: "m4a" });
  assert.deepEqual(splitName(".hidden"), { stem: ".hidden", extension: "" });
  assert.deepEqual(splitName(""), { stem: "transcript", extension: "" });
});

test("how a job that ended without a transcript is told", () => {
  const upload = { kind: "file", phase: "error", error: { kind: "job", status: "cancelled", detail: "The transcription was cancelled." } };
  assert.deepEqual(errorNotice(upload), { title: "Transcription cancelled", text: "The transcription was cancelled." });
  assert.equal(itemStatus(upload, {}), "Transcription cancelled.");
  const stored = { ...upload, kind: "stored", error: { kind: "job", status: "interrupted", detail: "Hush stopped." } };
  assert.deepEqual(errorNotice(stored), {
    title: "Hush stopped before this was transcribed",
    text: "Hush stopped. The recording is kept.",
  });
  const tooLarge = { kind: "file", error: { kind: "too-large", size: 1.3 * 2 ** 20, limit: 2 ** 20 } };
  assert.match(errorNotice(tooLarge).text, /^This file is 1\.3 MB, over the 1 MB limit\./);
  const unreadable = { kind: "recording", error: { kind: "http", status: 400, detail: "Not audio." } };
  assert.deepEqual(errorNotice(unreadable), { title: "Hush couldn't read this recording", text: "Not audio." });
});

test("the server's queue position and progress while transcribing", () => {
  const model = { reachable: true, state: "ready" };
  const queued = { phase: "transcribing", position: 2, serverProgress: 0 };
  assert.deepEqual(workingText(queued, model), {
    title: "Queued on the server",
    detail: "2 transcriptions are ahead of this one.",
    cancel: "Cancel",
  });
  const running = { phase: "transcribing", position: 0, serverProgress: 0.25, workStarted: 0 };
  assert.equal(workingText(running, model).title, "Transcribing 25%");
});

test("a remote job says how much audio is sent and how much is back", () => {
  const model = { reachable: true, state: "ready", remote: true, engine: "Server: gpu-box:8000" };
  const stage = "Sending the audio to gpu-box: 1.2 of 4.8 MB (25%); 0 of 3 pieces transcribed.";
  const running = { phase: "transcribing", position: 0, serverProgress: 0, stage };
  assert.equal(workingText(running, model).detail, stage);
  const before = { phase: "transcribing", position: 0, serverProgress: 0, stage: null };
  assert.match(workingText(before, model).detail, /^Transcribed by gpu-box:8000/);
});
