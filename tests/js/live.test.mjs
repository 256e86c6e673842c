// Live text (ui/live.js): the state machine and the socket client, with a fake WebSocket.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createLive, initialLive, LIVE_PAUSED, liveText, liveUrl, nextLive } from "../../ui/live.js";

class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static made = [];

  constructor(url) {
    this.url = url;
    this.readyState = FakeSocket.CONNECTING;
    this.sent = [];
    FakeSocket.made.push(this);
  }

  send(data) {
    assert.equal(this.readyState, FakeSocket.OPEN, "sent on a socket that is not open");
    this.sent.push(data);
  }

  close() {
    this.readyState = 3;
  }

  // The server's side:
  opened() {
    this.readyState = FakeSocket.OPEN;
    this.onopen();
  }

  says(message) {
    this.onmessage({ data: JSON.stringify(message) });
  }

  drops() {
    this.readyState = 3;
    this.onclose();
  }
}

const packet = (n) => new Int16Array(n).buffer;
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

test("confirmed text only grows and the tentative tail is replaced", () => {
  let state = nextLive(initialLive(), { type: "start" });
  state = nextLive(state, { type: "open" });
  state = nextLive(state, { type: "update", confirmed: "", tentative: "three seven" });
  state = nextLive(state, { type: "update", confirmed: "three seven", tentative: "stop" });
  assert.deepEqual(liveText(state), { confirmed: "three seven", tentative: "stop" });
  state = nextLive(state, { type: "done", confirmed: "three seven stop go", tentative: "" });
  assert.equal(state.status, "off");
  assert.deepEqual(liveText(state), { confirmed: "three seven stop go", tentative: "" });
});

test("a dropped socket keeps what was confirmed and says live text is paused", () => {
  let state = nextLive(nextLive(initialLive(), { type: "start" }), { type: "open" });
  state = nextLive(state, { type: "update", confirmed: "three seven", tentative: "stop" });
  state = nextLive(state, { type: "dropped" });
  assert.equal(state.status, "paused");
  assert.equal(state.detail, LIVE_PAUSED);
  state = nextLive(nextLive(state, { type: "open" }), { type: "update", confirmed: "go", tentative: "" });
  assert.deepEqual(liveText(state), { confirmed: "three seven go", tentative: "" });
});

test("the socket is on this page's origin, with the options", () => {
  assert.equal(
    liveUrl({ language: "de", task: "translate" }, "http://127.0.0.1:8765"),
    "ws://127.0.0.1:8765/api/live?language=de&task=translate",
  );
  assert.equal(liveUrl({}, "https://hush.example"), "wss://hush.example/api/live?task=transcribe");
});

test("audio waits while the socket opens, then goes out in order; stop waits for the last words", async () => {
  FakeSocket.made = [];
  const states = [];
  const live = createLive({ onChange: (s) => states.push(s.status), Socket: FakeSocket });
  globalThis.location = { origin: "http://127.0.0.1:8765" };
  live.start({ language: "", task: "transcribe" });
  live.send(packet(10));
  live.send(packet(20));
  const socket = FakeSocket.made[0];
  socket.opened();
  live.send(packet(30));
  assert.deepEqual(socket.sent.map((p) => p.byteLength), [20, 40, 60]);
  const stopped = live.stop(1000);
  assert.deepEqual(JSON.parse(socket.sent.at(-1)), { type: "stop" });
  socket.says({ type: "done", confirmed: "three seven stop go", tentative: "" });
  const final = await stopped;
  assert.equal(liveText(final).confirmed, "three seven stop go");
  assert.deepEqual(states.slice(0, 2), ["connecting", "live"]);
});

test("a dropped socket reconnects and sends the audio of the gap; the old session's words stay", async () => {
  FakeSocket.made = [];
  const live = createLive({ onChange: () => {}, Socket: FakeSocket, retryMs: 0 });
  live.start({ task: "transcribe" });
  FakeSocket.made[0].opened();
  FakeSocket.made[0].says({ type: "update", confirmed: "three seven", tentative: "stop" });
  FakeSocket.made[0].drops();
  assert.equal(live.state.status, "paused");
  live.send(packet(8));
  await settle();
  const again = FakeSocket.made[1];
  assert.ok(again, "no second socket was opened");
  again.opened();
  assert.deepEqual(again.sent.map((p) => p.byteLength), [16]);
  again.says({ type: "update", confirmed: "go", tentative: "" });
  assert.equal(liveText(live.state).confirmed, "three seven go");
  await live.stop(10);
});

test("pending audio is bounded while the server cannot be reached", () => {
  FakeSocket.made = [];
  const live = createLive({ onChange: () => {}, Socket: FakeSocket, maxPendingBytes: 100 });
  live.start({});
  for (let i = 0; i < 10; i++) live.send(packet(20));
  FakeSocket.made[0].opened();
  assert.deepEqual(FakeSocket.made[0].sent.map((p) => p.byteLength), [40, 40]);
});

test("close drops the socket without asking for the last words, and later packets go nowhere", () => {
  FakeSocket.made = [];
  const live = createLive({ onChange: () => {}, Socket: FakeSocket });
  live.start({});
  const socket = FakeSocket.made[0];
  socket.opened();
  live.send(packet(4));
  live.close();
  assert.equal(socket.readyState, 3);
  assert.equal(socket.sent.length, 1, "only the packet: no stop message");
  assert.equal(live.state.status, "off");
  live.send(packet(4));
  assert.equal(FakeSocket.made.length, 1, "no new socket after close");
});
