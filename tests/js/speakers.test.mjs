// Speakers of a stored transcript (ui/speakers.js) against a stubbed API: run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError } from "../../ui/api.js";
import { colourOf, createSpeakers, newSpeakerNumber, speakerList, startsTurn, turnsText } from "../../ui/speakers.js";

const segment = (text, speaker, extra = {}) => ({ start: 0, end: 1, text, words: [], speaker, ...extra });

function labelled(names = {}, merged = {}) {
  return {
    id: "j1",
    status: "done",
    text: "Hello. Hi there. How are you? Fine.",
    segments: [segment("Hello.", 2), segment("Hi there.", 1), segment("How are you?", 1), segment("Fine.", 2)],
    speakers: names,
    merged,
  };
}

function stubApi() {
  const calls = [];
  const answer = (name) => (...args) => new Promise((resolve, reject) => calls.push({ name, args, resolve, reject }));
  const names = ["renameSpeaker", "unnameSpeaker", "mergeSpeaker", "unmergeSpeaker", "moveSegment", "unmoveSegment", "labelSpeakers"];
  return { calls, api: Object.fromEntries(names.map((n) => [n, answer(n)])) };
}

test("speakers are listed by first appearance with their names, numbered ones as Speaker N", () => {
  assert.deepEqual(speakerList(labelled({ 1: "Anna" })), [
    { number: 2, name: "Speaker 2" },
    { number: 1, name: "Anna" },
  ]);
  assert.deepEqual(speakerList({ segments: [segment("x", null)] }), []);
});

test("turns start where the speaker changes, and copy gives Name: turns", () => {
  const result = labelled({ 1: "Anna" });
  assert.deepEqual(result.segments.map((_, i) => startsTurn(result.segments, i)), [true, true, false, true]);
  assert.equal(turnsText(result), "Speaker 2: Hello.\n\nAnna: Hi there. How are you?\n\nSpeaker 2: Fine.");
  assert.equal(turnsText({ text: "plain", segments: [segment("plain", null)] }), "plain");
});

test("colours cycle and a new speaker gets a number nobody has", () => {
  assert.equal(colourOf(1), "speaker-colour-0");
  assert.equal(colourOf(9), "speaker-colour-0");
  assert.equal(newSpeakerNumber(labelled({}, { 5: 1 })), 6);
  assert.equal(newSpeakerNumber(labelled()), 3);
});

test("rename, merge and move are sent for the item's job and the item shows the answer", async () => {
  const { api, calls } = stubApi();
  const changed = [];
  const speakers = createSpeakers({ api, events: { changed: (item) => changed.push(item.result.speakers) } });
  const item = { jobId: "j1", result: labelled() };

  const renaming = speakers.rename(item, 1, "  Anna ");
  assert.deepEqual([calls[0].name, ...calls[0].args], ["renameSpeaker", "j1", 1, "Anna"]);
  calls[0].resolve(labelled({ 1: "Anna" }));
  await renaming;
  assert.deepEqual(changed, [{ 1: "Anna" }]);

  speakers.rename(item, 1, " ");
  assert.deepEqual([calls[1].name, ...calls[1].args], ["unnameSpeaker", "j1", 1]);
  speakers.merge(item, 2, 1);
  assert.deepEqual([calls[2].name, ...calls[2].args], ["mergeSpeaker", "j1", 2, 1]);
  speakers.unmerge(item, 2);
  assert.deepEqual([calls[3].name, ...calls[3].args], ["unmergeSpeaker", "j1", 2]);
  speakers.move(item, 0, 1);
  assert.deepEqual([calls[4].name, ...calls[4].args], ["moveSegment", "j1", 0, 1]);
  item.result.segments[0] = segment("Hello.", 1, { original_speaker: 2 });
  speakers.move(item, 0, 2); // back to the labeller's speaker: the move is undone
  assert.deepEqual([calls[5].name, ...calls[5].args], ["unmoveSegment", "j1", 0]);
  speakers.label(item, "auto");
  assert.deepEqual([calls[6].name, ...calls[6].args], ["labelSpeakers", "j1", "auto"]);
});

test("a failure is told and the item keeps what it showed", async () => {
  const { api, calls } = stubApi();
  const errors = [];
  const speakers = createSpeakers({ api, events: { error: (e) => errors.push(e.detail) } });
  const item = { jobId: "j1", result: labelled() };
  const merging = speakers.merge(item, 2, 1);
  calls[0].reject(new ApiError("http", "no", { status: 404, detail: "There is no speaker 2 in this transcript." }));
  await merging;
  assert.deepEqual(errors, ["There is no speaker 2 in this transcript."]);
  assert.deepEqual(item.result.speakers, {});
});
