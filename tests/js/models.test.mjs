// The models' state (ui/models.js) against a fake server: run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ApiError } from "../../ui/api.js";
import { createModels, downloadProgress, modelRow } from "../../ui/models.js";

/** Resolves once `check()` is true (polled every millisecond), or fails after `ms`. */
async function until(check, what = "the condition", ms = 2000) {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const MB = 2 ** 20;

/** A server with a catalogue of models; `failures[name]` makes that request throw. */
function fakeServer(models) {
  const calls = { list: 0, download: [], activate: [], delete: [], local: [] };
  const failures = {};
  const find = (id) => models.find((m) => m.id === id);
  const request =
    (name, change = () => {}) =>
    async (arg) => {
      calls[name].push(arg);
      if (failures[name]) throw failures[name];
      change(arg);
      return {};
    };
  const api = {
    async listModels() {
      calls.list++;
      if (failures.list) throw failures.list;
      return { models: models.map((m) => ({ ...m })) };
    },
    startDownload: request("download", (id) => {
      find(id).download = { state: "downloading", percent: 0, bytes_total: 0 };
    }),
    activateModel: request("activate", (id) => {
      for (const m of models) m.active = m.id === id;
    }),
    deleteModel: request("delete", (id) => Object.assign(find(id), { installed: false })),
    useLocalModel: request("local"),
  };
  return { api, models, calls, failures };
}

/** Models on a fake server; `pollMs` long by default, so tests see the decision to poll, not the poll. */
function setup(t, models, { pollMs = 60_000 } = {}) {
  const server = fakeServer(models);
  const events = { changed: 0, activated: 0 };
  const state = createModels({
    api: server.api,
    pollMs,
    events: { changed: () => events.changed++, activated: () => events.activated++ },
  });
  t.after(() => state.close()); // passed or failed, nothing polls on
  return { ...server, events, state };
}

const catalogue = () => [
  { id: "tiny", name: "Tiny", note: "fastest", size_bytes: 144 * MB, installed: true, active: true, download: null },
  { id: "base", name: "Base", note: "fast", size_bytes: 277 * MB, installed: true, active: false, download: null },
  { id: "small", name: "Small", note: "", size_bytes: 922 * MB, installed: false, active: false, download: null },
];

describe("a model's row", () => {
  test("a download's progress: its share of the size and the speed, or that it is starting", () => {
    assert.deepEqual(downloadProgress({ state: "downloading", percent: 0, bytes_total: 0 }), {
      percent: 0,
      label: "Starting download…",
    });
    assert.deepEqual(downloadProgress({ percent: 42, bytes_total: 2 ** 30, bytes_per_second: 3 * MB }), {
      percent: 42,
      label: "42% of 1 GB · 3 MB/s",
    });
    assert.equal(downloadProgress({ percent: 7, bytes_total: 500 * MB }).label, "7% of 500 MB");
  });

  test("what it says and offers, from not downloaded to in use", () => {
    const missing = modelRow({ name: "Small", note: "accurate", size_bytes: 922 * MB, installed: false });
    assert.deepEqual(missing, { state: "", details: "accurate · 922 MB", progress: null, error: null, actions: ["download"] });

    const downloading = modelRow({ installed: false, download: { state: "downloading", percent: 10, bytes_total: 100 * MB } });
    assert.equal(downloading.state, "Downloading");
    assert.deepEqual(downloading.actions, [], "no second download while one runs");
    assert.deepEqual(downloading.progress, { percent: 10, label: "10% of 100 MB" });

    const failed = modelRow({ installed: false, download: { state: "failed", error: "The hub refused." } });
    assert.equal(failed.error, "The hub refused.");
    assert.deepEqual(failed.actions, ["download"], "a failed download can be tried again");
    assert.equal(failed.progress, null);

    assert.deepEqual(modelRow({ installed: true, active: false }).actions, ["use", "delete"]);
    assert.equal(modelRow({ installed: true, active: false }).state, "On this computer");
    assert.deepEqual(modelRow({ installed: true, active: true }).actions, []);
    assert.equal(modelRow({ installed: true, active: true }).state, "In use");
  });

  test("a model found on this computer can be used but is never deleted by Hush", () => {
    const found = modelRow({ installed: true, found: true, active: false });
    assert.equal(found.state, "Found on this computer");
    assert.deepEqual(found.actions, ["use"]);
  });
});

describe("the panel's state", () => {
  test("asks for the list only while the panel is open", async (t) => {
    const { state, calls, events } = setup(t, catalogue());
    await state.refresh();
    assert.equal(calls.list, 0);
    await state.open();
    assert.equal(calls.list, 1);
    assert.deepEqual(
      state.models.map((m) => m.id),
      ["tiny", "base", "small"],
    );
    assert.ok(events.changed >= 1);
    state.close();
    await state.refresh();
    assert.equal(calls.list, 1);
  });

  test("follows a download until it ends, and closing the panel stops following", async (t) => {
    const { state, models } = setup(t, catalogue());
    await state.open();
    assert.ok(!state.polling, "nothing to follow");
    await state.download("small");
    assert.ok(state.polling, "a download runs");
    assert.equal(modelRow(state.models[2]).state, "Downloading");
    Object.assign(models[2], { installed: true, download: { state: "done" } });
    await state.refresh();
    assert.ok(!state.polling, "the download ended");
    assert.deepEqual(modelRow(state.models[2]).actions, ["use", "delete"]);

    models[1].download = { state: "downloading", percent: 1, bytes_total: MB };
    await state.refresh();
    assert.ok(state.polling);
    state.close();
    assert.ok(!state.polling);
  });

  test("asks again after the poll interval while a download runs", async (t) => {
    const { state, calls, models } = setup(t, catalogue(), { pollMs: 1 });
    models[2].download = { state: "downloading", percent: 1, bytes_total: MB };
    await state.open();
    await until(() => calls.list >= 3, "two polls");
    models[2].download = { state: "done" };
    await until(() => state.models[2].download.state === "done", "the end of the download");
    await state.refresh();
    assert.ok(!state.polling);
    state.close();
  });

  test("Use switches the model and says so; a local path is used the same way", async (t) => {
    const { state, calls, events } = setup(t, catalogue());
    await state.open();
    await state.use("base");
    assert.deepEqual(calls.activate, ["base"]);
    assert.equal(events.activated, 1);
    assert.ok(state.models[1].active);
    await state.useLocal("~/models/faster-whisper-small");
    assert.deepEqual(calls.local, ["~/models/faster-whisper-small"]);
    assert.equal(events.activated, 2);
    await state.remove("tiny");
    assert.deepEqual(calls.delete, ["tiny"]);
    assert.equal(state.models[0].installed, false);
    assert.equal(events.activated, 2);
  });

  test("a failed action shows the server's words until the next action succeeds; opening starts clean", async (t) => {
    const { state, failures, calls, events } = setup(t, catalogue());
    await state.open();
    failures.activate = new ApiError("http", "Not a Whisper model.", { status: 400, detail: "Not a Whisper model." });
    await state.use("base");
    assert.equal(state.notice, "Not a Whisper model.");
    assert.equal(events.activated, 0, "no switch to follow");
    assert.equal(calls.list, 2, "the list is asked again");
    delete failures.activate;
    await state.use("base");
    assert.equal(state.notice, "");

    failures.download = new ApiError("network", "Hush can't reach its server.");
    await state.download("small");
    assert.equal(state.notice, "Hush can't reach its server.");
    state.close();
    await state.open();
    assert.equal(state.notice, "");
  });

  test("a list that cannot be read says why", async (t) => {
    const { state, failures } = setup(t, catalogue());
    failures.list = new ApiError("http", "Broken catalogue.", { status: 500, detail: "Broken catalogue." });
    await state.open();
    assert.equal(state.notice, "Broken catalogue.");
    assert.deepEqual(state.models, []);
  });
});
