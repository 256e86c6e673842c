// "Type again" for a dictation in the history (ui/type-again.js): the countdown, then the API.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createTypeAgain } from "../../ui/type-again.js";

/** A countdown whose ticks the test releases one by one. */
function fakes({ fail = false } = {}) {
  const ticks = [];
  const typed = [];
  const errors = [];
  const labels = [];
  const job = { id: "j1" };
  const api = {
    typeAgain: async (id) => {
      if (fail) throw new Error("no window");
      typed.push(id);
      return { method: "typed" };
    },
  };
  const typeAgain = createTypeAgain({
    api,
    seconds: 3,
    wait: () => new Promise((resolve) => ticks.push(resolve)),
    events: {
      changed: () => labels.push(typeAgain.label(job)),
      typed: () => {},
      error: (error) => errors.push(error.message),
    },
  });
  const tick = async () => {
    ticks.shift()();
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { typeAgain, job, ticks, typed, errors, labels, tick };
}

test("the button counts down 3, 2, 1 where the person sees it, then the text is typed", async () => {
  const { typeAgain, job, typed, labels, tick } = fakes();
  assert.equal(typeAgain.label(job), "Type again");
  const pressed = typeAgain.press(job);
  assert.equal(typeAgain.label(job), "Typing in 3… (stop)");
  await tick();
  await tick();
  assert.deepEqual(typed, []);
  await tick();
  await pressed;
  assert.deepEqual(typed, ["j1"]);
  assert.deepEqual(labels, ["Typing in 3… (stop)", "Typing in 2… (stop)", "Typing in 1… (stop)", "Typing…", "Type again"]);
  assert.equal(typeAgain.label({ id: "other" }), "Type again");
});

test("pressing again during the countdown stops it: nothing is typed", async () => {
  const { typeAgain, job, typed, tick } = fakes();
  const pressed = typeAgain.press(job);
  await tick();
  await typeAgain.press(job);
  assert.equal(typeAgain.state.phase, "idle");
  await tick();
  await pressed;
  assert.deepEqual(typed, []);
  assert.equal(typeAgain.label(job), "Type again");
});

test("another dictation's button takes over the countdown; a failure is told and the button is back", async () => {
  const { typeAgain, job, typed, errors, tick } = fakes({ fail: true });
  const first = typeAgain.press({ id: "j0" });
  const second = typeAgain.press(job);
  await tick();
  await first;
  assert.equal(typeAgain.state.id, "j1");
  await tick();
  await tick();
  await tick();
  await second;
  assert.deepEqual(typed, []);
  assert.deepEqual(errors, ["no window"]);
  assert.equal(typeAgain.state.phase, "idle");
});
