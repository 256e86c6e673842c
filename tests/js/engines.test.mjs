// Where transcription runs (ui/engines.js) against a fake server: run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ApiError } from "../../ui/api.js";
import { blankServer, createEngines, serverPayload, testSummary } from "../../ui/engines.js";

const stored = { id: "a1", url: "http://gpu-box:8000/v1", model: "whisper-1", concurrency: 2, allow_unencrypted: true, has_key: true };

/** A server holding one configured server with a key; every call is recorded. */
function fakeServer({ fixed = false } = {}) {
  const calls = { set: [], test: [] };
  let engines = { kind: "servers", servers: [stored], where: "Server: gpu-box:8000", from_environment: fixed, live: false, live_detail: "off" };
  const api = {
    getEngines: async () => structuredClone(engines),
    async setEngines(choice) {
      calls.set.push(choice);
      if (choice.servers.some((s) => s.url.startsWith("http://lan"))) {
        throw new ApiError("http", "refused", { status: 422, detail: "lan:8000 would be reached over plain http." });
      }
      engines = { ...engines, kind: choice.kind, servers: choice.servers.map((s) => ({ ...s, id: s.id || "new", has_key: Boolean(s.key) })) };
      return structuredClone(engines);
    },
    async testServer(server) {
      calls.test.push(server);
      return server.url.includes("down")
        ? { ok: false, detail: "down:8000 cannot be reached (Connection refused)." }
        : { ok: true, detail: "gpu-box:8000 heard “hello” in 0.40 s.", models: ["whisper-large-v3"], seconds: 0.4 };
    },
  };
  return { api, calls };
}

describe("engines", () => {
  test("a stored server is shown without its key and saved again with null, which keeps it", async () => {
    const { api, calls } = fakeServer();
    const engines = createEngines({ api });
    await engines.load();
    assert.equal(engines.kind, "servers");
    assert.equal(engines.servers[0].key, "");
    assert.equal(engines.servers[0].has_key, true);
    await engines.save();
    assert.equal(calls.set[0].servers[0].key, null);
    assert.equal(calls.set[0].servers[0].id, "a1");
  });

  test("a typed key is sent once, and the answer never brings it back", async () => {
    const { api, calls } = fakeServer();
    const saved = [];
    const engines = createEngines({ api, events: { saved: (info) => saved.push(info) } });
    await engines.load();
    engines.edit(0, "key", "sk-typed");
    await engines.save();
    assert.equal(calls.set[0].servers[0].key, "sk-typed");
    assert.equal(engines.servers[0].key, "", "the typed key is not kept in the page after saving");
    assert.equal(saved.length, 1);
  });

  test("choosing servers offers an empty server; this computer sends none", async () => {
    const { api, calls } = fakeServer();
    const engines = createEngines({ api });
    engines.choose("servers");
    assert.deepEqual(engines.servers, [blankServer()]);
    engines.choose("local");
    await engines.save();
    assert.deepEqual(calls.set[0], { kind: "local", servers: [] });
  });

  test("a refusal is shown as the server's sentence and nothing changes", async () => {
    const { api } = fakeServer();
    const engines = createEngines({ api });
    await engines.load();
    engines.add();
    engines.edit(1, "url", "http://lan:8000/v1");
    await engines.save();
    assert.match(engines.notice, /plain http/);
    assert.equal(engines.servers.length, 2, "the rows stay as typed, to be corrected");
  });

  test("Test reports what the server heard and its models, or what is wrong", async () => {
    const { api, calls } = fakeServer();
    const engines = createEngines({ api });
    await engines.load();
    engines.add();
    engines.edit(1, "url", "http://down:8000/v1");
    await Promise.all([engines.test(0), engines.test(1)]);
    assert.equal(engines.testOf(0).state, "ok");
    assert.match(engines.testOf(0).text, /heard “hello”.*Models: whisper-large-v3\./);
    assert.equal(engines.testOf(1).state, "failed");
    assert.match(engines.testOf(1).text, /cannot be reached/);
    assert.equal(calls.test[0].key, null);
    engines.edit(0, "model", "large");
    assert.equal(engines.testOf(0), null, "an edited server's old result is dropped");
  });

  test("a server's numbers are bounded before they are sent", () => {
    const payload = serverPayload({ ...blankServer(), url: " http://x/v1 ", concurrency: "99", model: " " });
    assert.deepEqual(payload, { id: null, url: "http://x/v1", model: "whisper-1", concurrency: 32, allow_unencrypted: false, key: null });
    assert.equal(testSummary({ ok: false, detail: "nope" }), "nope");
  });

  test("HUSH_ENGINE fixes the choice: the state says so", async () => {
    const { api } = fakeServer({ fixed: true });
    const engines = createEngines({ api });
    await engines.load();
    assert.equal(engines.fixed, true);
  });
});
