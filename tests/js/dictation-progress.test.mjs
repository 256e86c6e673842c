// What the dictation indicator is sent while Hush listens (ui/dictation-progress.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { createDictationProgress, pcmLevel, TAIL_CHARS } from "../../ui/dictation-progress.js";

const tone = (amplitude, n = 160) => new Int16Array(n).fill(Math.round(amplitude * 32767)).buffer;
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

test("the level follows the PCM on the page meter's scale: silence 0, full scale 1, -30 dBFS one half", () => {
  assert.equal(pcmLevel(tone(0)), 0);
  assert.ok(Math.abs(pcmLevel(tone(1)) - 1) < 0.001);
  assert.ok(Math.abs(pcmLevel(tone(10 ** (-30 / 20))) - 0.5) < 0.01);
  assert.equal(pcmLevel(new ArrayBuffer(0)), 0);
});

test("at most one message per interval, with the loudest level since the last and the newest text", async () => {
  let clock = 0;
  const sent = [];
  const progress = createDictationProgress({ send: async (m) => sent.push(m), intervalMs: 100, now: () => clock });
  progress.text("hello");
  progress.pcm(tone(0.5));
  await settle();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].text, "hello");
  clock = 50;
  progress.pcm(tone(1));
  progress.text("hello there");
  progress.pcm(tone(0.01));
  await settle();
  assert.equal(sent.length, 1, "within the interval nothing more is sent");
  clock = 120;
  progress.pcm(tone(0.01));
  await settle();
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1], { level: 1, text: "hello there" });
});

test("a slow answer is not stacked on, a failed one is retried with the next packet, and stop ends it", async () => {
  let clock = 0;
  let answer;
  const sent = [];
  const send = (message) => {
    sent.push(message);
    return new Promise((resolve, reject) => (answer = { resolve, reject }));
  };
  const progress = createDictationProgress({ send, intervalMs: 100, now: () => clock });
  progress.pcm(tone(0.1));
  clock = 500;
  progress.pcm(tone(0.1));
  assert.equal(sent.length, 1, "the first is still on its way");
  answer.reject(new Error("network"));
  await settle();
  progress.pcm(tone(0.1));
  assert.equal(sent.length, 2);
  answer.resolve();
  await settle();
  progress.stop();
  clock = 1000;
  progress.pcm(tone(0.1));
  assert.equal(sent.length, 2);
});

test("of a long dictation only the newest words are sent", async () => {
  const sent = [];
  const progress = createDictationProgress({ send: async (m) => sent.push(m), now: () => 0 });
  progress.text(`${"older words ".repeat(200)}newest`);
  progress.pcm(tone(0.1));
  await settle();
  assert.equal(sent[0].text.length, TAIL_CHARS);
  assert.ok(sent[0].text.endsWith("newest"));
});
