// The HTTP client (ui/api.js) with fetch and XMLHttpRequest stubbed: run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import * as api from "../../ui/api.js";

const BASE = "http://127.0.0.1:8765/hush/";
let requests;

/** fetch answers each request with the next of `answers` (a Response, or an Error to throw). */
function stubFetch(...answers) {
  globalThis.fetch = async (url, init = {}) => {
    requests.push({ url, ...init });
    const answer = answers.shift();
    if (answer instanceof Error) throw answer;
    return answer;
  };
}

const json = (body, status = 200, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

/** An XMLHttpRequest that records what was sent; the test plays the server with its methods. */
class FakeXHR {
  static last = null;

  constructor() {
    this.headers = {};
    this.upload = {};
    this.responseHeaders = {};
    FakeXHR.last = this;
  }

  open(method, url) {
    Object.assign(this, { method, url });
  }

  setRequestHeader(name, value) {
    this.headers[name] = value;
  }

  getResponseHeader(name) {
    return this.responseHeaders[name] ?? null;
  }

  send(body) {
    this.body = body;
  }

  abort() {
    this.onabort?.();
  }

  answer(status, body, headers = {}) {
    Object.assign(this, { status, responseText: JSON.stringify(body), responseHeaders: headers });
    this.onload();
  }
}

beforeEach(() => {
  requests = [];
  globalThis.document = { baseURI: BASE };
  globalThis.XMLHttpRequest = FakeXHR;
});

afterEach(() => {
  delete globalThis.document;
  delete globalThis.XMLHttpRequest;
});

describe("transcribe", () => {
  test("posts the file with wait=false and resolves with the queued job", async () => {
    const progress = [];
    let uploaded = 0;
    const blob = new Blob(["RIFF"], { type: "audio/wav" });
    const { promise } = api.transcribe(blob, "recording.wav", { language: "de", task: "translate" }, {
      onProgress: (fraction) => progress.push(fraction),
      onUploaded: () => uploaded++,
    });
    const xhr = FakeXHR.last;
    assert.equal(xhr.method, "POST");
    assert.equal(xhr.url, `${BASE}api/transcriptions?wait=false`);
    assert.equal(xhr.headers.Accept, "application/json");
    assert.equal(xhr.body.get("file").name, "recording.wav");
    assert.equal(xhr.body.get("language"), "de");
    assert.equal(xhr.body.get("task"), "translate");
    assert.equal(xhr.body.get("speakers"), "off");

    xhr.upload.onprogress({ lengthComputable: true, loaded: 1, total: 4 });
    xhr.upload.onprogress({ lengthComputable: false, loaded: 2, total: 0 });
    xhr.upload.onload();
    assert.deepEqual(progress, [0.25, 1]);
    assert.equal(uploaded, 1);

    const job = { id: "abc", status: "queued", progress: 0, position: 1 };
    xhr.answer(202, job);
    assert.deepEqual(await promise, job);
  });

  test("a 503 carries the server's detail and Retry-After", async () => {
    const { promise } = api.transcribe(new Blob(["x"]), "a.wav");
    FakeXHR.last.answer(503, { detail: "The model is loading." }, { "Retry-After": "5" });
    await assert.rejects(promise, { name: "ApiError", kind: "http", status: 503, detail: "The model is loading.", retryAfter: 5 });
  });

  test("no answer is a network error; abort() is aborted", async () => {
    const lost = api.transcribe(new Blob(["x"]), "a.wav");
    FakeXHR.last.onerror();
    await assert.rejects(lost.promise, { kind: "network", message: "Hush can't reach its server." });
    const cancelled = api.transcribe(new Blob(["x"]), "a.wav");
    cancelled.abort();
    await assert.rejects(cancelled.promise, { kind: "aborted" });
  });
});

describe("requests", () => {
  test("a job is read, cancelled and retried by its id", async () => {
    stubFetch(json({ id: "a/b", status: "running" }), json({ status: "cancelled" }, 202), json({ status: "queued" }, 202));
    assert.deepEqual(await api.getTranscription("a/b"), { id: "a/b", status: "running" });
    await api.cancelTranscription("a/b");
    await api.retryTranscription("a/b");
    assert.deepEqual(
      requests.map((r) => [r.method, r.url, r.cache]),
      [
        ["GET", `${BASE}api/transcriptions/a%2Fb`, "no-store"],
        ["POST", `${BASE}api/transcriptions/a%2Fb/cancel`, "no-store"],
        ["POST", `${BASE}api/transcriptions/a%2Fb/retry`, "no-store"],
      ],
    );
    assert.equal(api.audioUrl("a/b"), `${BASE}api/transcriptions/a%2Fb/audio`);
  });

  test("the history is searched with a query string; a delete answers nothing", async () => {
    stubFetch(json({ items: [], total: 0 }), new Response(null, { status: 204 }));
    await api.listTranscriptions({ q: "kiwi memo", limit: 10 });
    assert.equal(requests[0].url, `${BASE}api/transcriptions?q=kiwi+memo&limit=10&offset=0`);
    assert.equal(await api.deleteTranscription("x"), null);
    assert.equal(requests[1].method, "DELETE");
  });

  test("a model id keeps its slash in the path", async () => {
    stubFetch(json({ state: "downloading" }));
    await api.startDownload("openai/whisper-small");
    assert.equal(requests[0].url, `${BASE}api/models/openai/whisper-small/download`);
  });

  test("an export posts the transcript as JSON, words, corrections and speakers too, and returns the file", async () => {
    stubFetch(new Response("1\n00:00:00,000 --> 00:00:01,000\nhi\n", { headers: { "Content-Type": "text/plain" } }));
    const words = [{ start: 0, end: 1, word: "hi", probability: 0.9 }];
    const blob = await api.exportTranscript("srt", {
      id: "x",
      text: "hi",
      language: "en",
      duration: 1,
      segments: [{ start: 0, end: 1, text: "hi", extra: true }, { start: 1, end: 2, text: "hi", words, original: "high", speaker: 2 }],
      speakers: { 2: "Anna" },
    });
    assert.ok(blob instanceof Blob);
    assert.equal(requests[0].headers["Content-Type"], "application/json");
    assert.deepEqual(JSON.parse(requests[0].body), {
      text: "hi",
      language: "en",
      duration: 1,
      segments: [
        { start: 0, end: 1, text: "hi", words: [], original: null, speaker: null },
        { start: 1, end: 2, text: "hi", words, original: "high", speaker: 2 },
      ],
      speakers: { 2: "Anna" },
    });
  });

  test("a request aborted while its body arrives is an abort, not an error to show", async () => {
    const aborted = new DOMException("signal is aborted without reason", "AbortError");
    stubFetch({ ok: true, status: 200, headers: new Headers(), json: () => Promise.reject(aborted) });
    await assert.rejects(api.listTranscriptions(), (error) => error.kind === "aborted");
  });

  test("speakers are named, merged and moved with PUT, undone with DELETE, labelled with POST", async () => {
    stubFetch(...Array.from({ length: 7 }, () => json({ id: "j", status: "done" })));
    await api.renameSpeaker("j", 2, "Anna");
    await api.unnameSpeaker("j", 2);
    await api.mergeSpeaker("j", 3, 2);
    await api.unmergeSpeaker("j", 3);
    await api.moveSegment("j", 4, 1);
    await api.unmoveSegment("j", 4);
    await api.labelSpeakers("j", 2);
    const sent = requests.map((r) => [r.method, r.url.slice(BASE.length), r.body ? JSON.parse(r.body) : null]);
    assert.deepEqual(sent, [
      ["PUT", "api/transcriptions/j/speakers/2/name", { name: "Anna" }],
      ["DELETE", "api/transcriptions/j/speakers/2/name", null],
      ["PUT", "api/transcriptions/j/speakers/3/merge", { into: 2 }],
      ["DELETE", "api/transcriptions/j/speakers/3/merge", null],
      ["PUT", "api/transcriptions/j/segments/4/speaker", { speaker: 1 }],
      ["DELETE", "api/transcriptions/j/segments/4/speaker", null],
      ["POST", "api/transcriptions/j/speakers", { speakers: 2 }],
    ]);
  });

  test("a correction is a PATCH of the segment, a revert a DELETE of its correction", async () => {
    stubFetch(json({ id: "a b", status: "done" }), json({ id: "a b", status: "done" }));
    await api.correctSegment("a b", 3, "three eleven");
    await api.revertSegment("a b", 3);
    assert.equal(requests[0].url, `${BASE}api/transcriptions/a%20b/segments/3`);
    assert.deepEqual([requests[0].method, JSON.parse(requests[0].body)], ["PATCH", { text: "three eleven" }]);
    assert.deepEqual([requests[1].method, requests[1].url], ["DELETE", `${BASE}api/transcriptions/a%20b/segments/3/correction`]);
  });

  test("errors: the server's detail, a list of validation errors, or a sentence about the status", async () => {
    stubFetch(
      json({ detail: "There is no transcription with this id." }, 404),
      json({ detail: [{ msg: "bad limit" }, { msg: "bad offset" }] }, 422),
      new Response("<html>oops</html>", { status: 500 }),
    );
    await assert.rejects(api.getTranscription("x"), { kind: "http", status: 404, detail: "There is no transcription with this id." });
    await assert.rejects(api.listTranscriptions(), { kind: "http", status: 422, detail: "bad limit; bad offset" });
    await assert.rejects(api.getHealth(), { kind: "http", status: 500, detail: "The server answered with an unexpected error (HTTP 500)." });
  });

  test("no server is a network error; an aborted request is aborted", async () => {
    stubFetch(new TypeError("Failed to fetch"), new DOMException("The user aborted a request.", "AbortError"));
    await assert.rejects(api.getHealth(), { kind: "network" });
    await assert.rejects(api.listTranscriptions({ signal: new AbortController().signal }), { kind: "aborted" });
  });
});
