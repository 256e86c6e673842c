// Where transcription runs: this computer, or one or more OpenAI-compatible servers that share
// the work. No DOM: node tests drive it with a stubbed API; engines-view.js shows it. A key is
// typed, sent once and never comes back: a stored server shows only that it has one, and is
// saved again without a key to keep it.

/** A server row as the panel edits it (`key` is only what was typed since the panel opened). */
export function blankServer() {
  return { id: null, url: "", model: "whisper-1", concurrency: 1, allow_unencrypted: false, key: "", has_key: false };
}

/** A row as the API takes it: the typed key, or null to keep the stored one. */
export function serverPayload(server) {
  return {
    id: server.id,
    url: server.url.trim(),
    model: server.model.trim() || "whisper-1",
    concurrency: Math.max(1, Math.min(32, Math.round(Number(server.concurrency) || 1))),
    allow_unencrypted: Boolean(server.allow_unencrypted),
    key: server.key ? server.key : null,
  };
}

/** The words under a server after its Test: what it heard, how fast, its models; or what is wrong. */
export function testSummary(result) {
  if (!result.ok) return result.detail;
  const parts = [result.detail];
  if (result.models?.length) parts.push(`Models: ${result.models.join(", ")}.`);
  return parts.join(" ");
}

/**
 * `api`: getEngines, setEngines, testServer (api.js). `events`: changed() (redraw), saved(engines)
 * (the server now sends work elsewhere: the health poll shows it). Returns the state and its actions.
 */
export function createEngines({ api, events = {} }) {
  const emit = (name, ...args) => events[name]?.(...args);
  let info = null; // the server's last answer
  let kind = "local";
  let servers = [];
  let notice = "";
  let saving = false;
  const tests = new Map(); // row → {state: "testing" | "ok" | "failed", text}

  function adopt(engines) {
    info = engines;
    kind = engines.kind;
    servers = engines.servers.map((s) => ({ ...s, key: "" }));
    tests.clear();
  }

  async function load() {
    try {
      adopt(await api.getEngines());
      notice = "";
    } catch (error) {
      notice = error.detail || error.message;
    }
    emit("changed");
  }

  async function save() {
    saving = true;
    emit("changed");
    try {
      const chosen = await api.setEngines({ kind, servers: kind === "servers" ? servers.map(serverPayload) : [] });
      adopt(chosen);
      notice = "";
      emit("saved", chosen);
    } catch (error) {
      notice = error.detail || error.message;
    } finally {
      saving = false;
      emit("changed");
    }
  }

  async function test(index) {
    const server = servers[index];
    tests.set(index, { state: "testing", text: `Sending ${server.url || "the server"} a test clip…` });
    emit("changed");
    try {
      const result = await api.testServer(serverPayload(server));
      tests.set(index, { state: result.ok ? "ok" : "failed", text: testSummary(result) });
    } catch (error) {
      tests.set(index, { state: "failed", text: error.detail || error.message });
    }
    emit("changed");
  }

  return {
    get info() {
      return info;
    },
    get kind() {
      return kind;
    },
    get servers() {
      return servers;
    },
    get notice() {
      return notice;
    },
    get saving() {
      return saving;
    },
    /** Whether HUSH_ENGINE fixed the engine for this launch (the panel shows it, read-only). */
    get fixed() {
      return Boolean(info?.from_environment);
    },
    testOf: (index) => tests.get(index) || null,
    load,
    save,
    test,
    choose(value) {
      kind = value;
      if (kind === "servers" && !servers.length) servers = [blankServer()];
      emit("changed");
    },
    add() {
      servers = [...servers, blankServer()];
      emit("changed");
    },
    remove(index) {
      servers = servers.filter((_, i) => i !== index);
      tests.clear();
      emit("changed");
    },
    /** A typed value: redraws nothing (the field has it already). */
    edit(index, field, value) {
      servers[index] = { ...servers[index], [field]: value };
      tests.delete(index);
    },
  };
}
