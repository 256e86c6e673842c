// What the dictation indicator draws for each message (ui/indicator-state.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { createIndicatorState, tail, TAIL_CHARS } from "../../ui/indicator-state.js";

test("a short text is shown whole; a long one by its newest words, cut at a word, with … in front", () => {
  assert.equal(tail("hello there"), "hello there");
  const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
  const shown = tail(long);
  assert.ok(shown.startsWith("…word"), shown);
  assert.ok(shown.endsWith("word59"));
  assert.ok(shown.length <= TAIL_CHARS + 1);
  assert.ok(long.endsWith(shown.slice(1)));
  assert.equal(tail("x".repeat(TAIL_CHARS + 10)), "…" + "x".repeat(TAIL_CHARS)); // no space to cut at
});

test("while listening: the meter starts from silence once per dictation, and the × can cancel", () => {
  const model = createIndicatorState();
  const first = model.show({ text: "Listening…", hint: "Release the keys", level: 0 });
  assert.deepEqual(first, { text: "Listening…", hint: "Release the keys", level: 0, restartMeter: true, cancellable: true });
  const next = model.show({ text: "The museum", hint: "Release the keys", level: 0.6 });
  assert.equal(next.restartMeter, false);
  assert.equal(next.cancellable, true);
  model.show({ text: "Typing…" });
  assert.equal(model.show({ text: "Listening…", level: 0 }).restartMeter, true); // the next dictation
});

test("typing or a problem: no meter, nothing to cancel, and a long sentence kept whole (its end says what to do)", () => {
  const model = createIndicatorState();
  model.show({ text: "Listening…", level: 0.1 });
  const problem = "Hush cannot type into other apps here. ".repeat(5) + "Paste it with Ctrl+V.";
  const view = model.show({ text: problem });
  assert.deepEqual(view, { text: problem, hint: null, level: null, restartMeter: false, cancellable: false });
  model.hide();
  assert.equal(model.show({ text: "Listening…", level: 0 }).restartMeter, true);
});
