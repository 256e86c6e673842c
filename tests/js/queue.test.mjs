// The item state machine (ui/queue.js) against a fake server: run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ApiError } from "../../ui/api.js";
import { createQueue, fileItem, recordingItem } from "../../ui/queue.js";

/** Resolves once `check()` is true (polled every millisecond), or fails after `ms`. */
async function until(check, what = "the condition", ms = 2000) {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** A server that stores jobs by id; uploads stay open until the test answers them. */
function fakeServer() {
  const jobs = new Map();
  const uploads = [];
  const calls = { get: [], cancel: [], retry: [] };
  let nextJob = 1;

  const api = {
    transcribe(blob, name, options, handlers) {
      let resolve;
      let reject;
      const promise = new Promise((ok, fail) => {
        resolve = ok;
        reject = fail;
      });
      const upload = { blob, name, options, handlers, aborted: false };
      /** The upload arrived: store a queued job and answer 202 with it. */
      upload.accept = (fields = {}) => {
        handlers.onProgress(1);
        handlers.onUploaded();
        const job = { id: `job${nextJob++}`, filename: name, status: "queued", progress: 0, position: 0, ...fields };
        jobs.set(job.id, job);
        resolve({ ...job });
        return job;
      };
      upload.refuse = (error) => reject(error);
      uploads.push(upload);
      return {
        promise,
        abort: () => {
          upload.aborted = true;
          reject(new ApiError("aborted", "Cancelled."));
        },
      };
    },
    async getTranscription(id) {
      calls.get.push(id);
      const job = jobs.get(id);
      if (!job) throw new ApiError("http", "No such job.", { status: 404, detail: "No such job." });
      return { ...job };
    },
    async cancelTranscription(id) {
      calls.cancel.push(id);
      Object.assign(jobs.get(id), { status: "cancelled", error: "The transcription was cancelled." });
      return { ...jobs.get(id) };
    },
    async retryTranscription(id) {
      calls.retry.push(id);
      Object.assign(jobs.get(id), { status: "queued", error: null });
      return { ...jobs.get(id) };
    },
    audioUrl: (id) => `http://hush.test/api/transcriptions/${id}/audio`,
  };
  /** The worker finished a job with this transcript. */
  const finish = (job, text) =>
    Object.assign(job, { status: "done", progress: 1, text, language: "en", duration: 2, segments: [{ start: 0, end: 2, text }] });
  return { api, jobs, uploads, calls, finish };
}

function setup({ state = "ready", maxUploadBytes = 0 } = {}) {
  const server = fakeServer();
  const model = { reachable: true, state, maxUploadBytes };
  const events = { changed: 0, results: [], jobsChanged: 0, checkHealth: 0, errors: [] };
  const queue = createQueue({
    api: server.api,
    model,
    options: () => ({ language: "en", task: "transcribe" }),
    pollMs: 2,
    events: {
      changed: () => events.changed++,
      result: (item) => events.results.push(item),
      jobsChanged: () => events.jobsChanged++,
      checkHealth: () => events.checkHealth++,
      error: (error) => events.errors.push(error),
    },
  });
  return { ...server, model, events, queue };
}

const wav = (name, size = 100) => fileItem({ name, size });

describe("an upload", () => {
  test("is held until the model is ready, then sent with the options of the moment", async () => {
    const { queue, model, uploads } = setup({ state: "loading" });
    const item = queue.add(wav("memo.wav"));
    assert.equal(item.phase, "held");
    assert.equal(uploads.length, 0);
    model.state = "ready";
    queue.pump();
    assert.equal(item.phase, "uploading");
    assert.deepEqual(uploads[0].options, { language: "en", task: "transcribe" });
    assert.equal(uploads[0].name, "memo.wav");
  });

  test("shows upload progress, then follows its job by id to the transcript", async () => {
    const { queue, uploads, calls, finish, events } = setup();
    const item = queue.add(wav("memo.wav"));
    uploads[0].handlers.onProgress(0.5);
    assert.equal(item.progress, 0.5);
    const job = uploads[0].accept({ status: "queued", position: 1 });
    await until(() => item.jobId === job.id, "the job id");
    assert.equal(item.phase, "transcribing");
    assert.equal(item.position, 1);
    Object.assign(job, { status: "running", position: 0, progress: 0.25 });
    await until(() => item.serverProgress === 0.25, "the server's progress");
    assert.equal(item.position, 0);
    finish(job, "three seven stop go");
    await until(() => item.phase === "done", "done");
    assert.equal(item.result.text, "three seven stop go");
    assert.deepEqual(events.results, [item]);
    assert.ok(calls.get.length >= 2 && calls.get.every((id) => id === job.id));
  });

  test("one at a time: the next waits until the previous job has ended", async () => {
    const { queue, uploads, finish } = setup();
    const first = queue.add(wav("a.wav"));
    const second = queue.add(wav("b.wav"));
    assert.equal(second.phase, "queued");
    const job = uploads[0].accept();
    await until(() => first.jobId, "the first job's id");
    assert.equal(uploads.length, 1);
    finish(job, "one");
    await until(() => uploads.length === 2, "the second upload");
    assert.equal(first.phase, "done");
    assert.equal(second.phase, "uploading");
  });

  test("two uploads of the same name each follow and cancel their own job", async () => {
    // Two recordings called recording.webm, as two tabs would send them.
    const { queue, uploads, calls, jobs, finish } = setup();
    const started = new Date(2025, 2, 9, 14, 5);
    const first = queue.add(recordingItem({ blob: { size: 10 }, extension: "webm", seconds: 2, startedAt: started }));
    const second = queue.add(recordingItem({ blob: { size: 10 }, extension: "webm", seconds: 3, startedAt: started }));
    assert.equal(first.uploadName, "recording.webm");
    assert.equal(first.stem, "hush-recording-2025-03-09-1405");
    const firstJob = uploads[0].accept();
    await until(() => first.jobId === firstJob.id, "the first job's id");
    finish(firstJob, "one two");
    await until(() => uploads.length === 2, "the second upload");
    const secondJob = uploads[1].accept();
    await until(() => second.jobId === secondJob.id, "the second job's id");
    assert.notEqual(firstJob.id, secondJob.id);
    assert.equal(first.result.text, "one two");
    queue.cancel(second);
    await until(() => calls.cancel.length === 1, "the cancel request");
    assert.deepEqual(calls.cancel, [secondJob.id]);
    assert.equal(jobs.get(firstJob.id).status, "done");
    assert.equal(second.phase, "cancelled");
    assert.equal(first.phase, "done");
  });
});

describe("cancel", () => {
  test("while uploading aborts the request, and the next item goes", async () => {
    const { queue, uploads, calls } = setup();
    const first = queue.add(wav("a.wav"));
    const second = queue.add(wav("b.wav"));
    queue.cancel(first);
    assert.equal(first.phase, "cancelled");
    assert.ok(uploads[0].aborted);
    assert.equal(second.phase, "uploading");
    await until(() => uploads.length === 2, "the second upload");
    assert.deepEqual(calls.cancel, []);
  });

  test("once uploaded but before the server named the job: the job is cancelled when it is", async () => {
    const { queue, uploads, calls } = setup();
    const item = queue.add(wav("a.wav"));
    uploads[0].handlers.onUploaded(); // the server is decoding
    assert.equal(item.phase, "transcribing");
    queue.cancel(item);
    assert.ok(!uploads[0].aborted, "the request stays open to learn the job's id");
    const job = uploads[0].accept();
    await until(() => calls.cancel.length === 1, "the cancel request");
    assert.deepEqual(calls.cancel, [job.id]);
    assert.equal(item.phase, "cancelled");
    assert.equal(item.jobId, null);
  });

  test("a held item is not sent, and can be transcribed after all", async () => {
    const { queue, model, uploads } = setup({ state: "loading" });
    const item = queue.add(wav("a.wav"));
    queue.cancel(item);
    assert.equal(item.phase, "cancelled");
    model.state = "ready";
    queue.pump();
    assert.equal(uploads.length, 0);
    queue.retry(item);
    assert.equal(item.phase, "uploading");
  });

  test("a stale answer after Try again is ignored", async () => {
    const { queue, uploads, calls, finish } = setup();
    const item = queue.add(wav("a.wav"));
    uploads[0].handlers.onUploaded();
    queue.cancel(item);
    queue.retry(item);
    assert.equal(uploads.length, 2);
    const stale = uploads[0].accept();
    const fresh = uploads[1].accept();
    await until(() => item.jobId === fresh.id, "the new job's id");
    await until(() => calls.cancel.includes(stale.id), "the stale job's cancel");
    finish(fresh, "go");
    await until(() => item.phase === "done", "done");
    assert.deepEqual(calls.cancel, [stale.id]);
  });
});

describe("failures", () => {
  test("a 503 holds the item with the server's words and tries again after Retry-After", async () => {
    const { queue, uploads, events } = setup();
    const item = queue.add(wav("a.wav"));
    const refused = Date.now();
    uploads[0].refuse(new ApiError("http", "Still loading.", { status: 503, detail: "Still loading.", retryAfter: 1 }));
    await until(() => item.phase === "held", "held");
    assert.equal(item.note, "Still loading.");
    assert.ok(item.retryAt >= refused + 1000);
    assert.equal(events.checkHealth, 1);
    queue.pump();
    assert.equal(uploads.length, 1, "not before Retry-After");
    await until(() => uploads.length === 2, "the second try", 3000);
    assert.ok(Date.now() - refused >= 950, "after Retry-After");
    assert.equal(item.phase, "uploading");
  });

  test("a file over the server's limit is refused before sending", () => {
    const { queue, uploads } = setup({ maxUploadBytes: 1000 });
    const item = queue.add(wav("big.wav", 5000));
    assert.equal(uploads.length, 0);
    assert.equal(item.phase, "error");
    assert.deepEqual(item.error, { kind: "too-large", size: 5000, limit: 1000, retry: false });
  });

  test("no server: an error with Try again, and the health is checked", async () => {
    const { queue, uploads, events } = setup();
    const item = queue.add(wav("a.wav"));
    uploads[0].refuse(new ApiError("network", "Hush can't reach its server."));
    await until(() => item.phase === "error", "the error");
    assert.deepEqual(item.error, { kind: "network", retry: true });
    assert.equal(events.checkHealth, 1);
  });

  test("an unreadable file: the server's detail, no Try again", async () => {
    const { queue, uploads } = setup();
    const item = queue.add(wav("notes.mp3"));
    uploads[0].refuse(new ApiError("http", "Not audio.", { status: 400, detail: "Not audio." }));
    await until(() => item.phase === "error", "the error");
    assert.deepEqual(item.error, { kind: "http", status: 400, detail: "Not audio.", retry: false });
  });

  for (const status of ["failed", "cancelled", "interrupted"]) {
    test(`a job that ends ${status} is an error with Try again`, async () => {
      const { queue, uploads } = setup();
      const item = queue.add(wav("a.wav"));
      const job = uploads[0].accept();
      await until(() => item.jobId, "the job's id");
      Object.assign(job, { status, error: `It ended ${status}.` });
      await until(() => item.phase === "error", "the error");
      assert.deepEqual(item.error, { kind: "job", status, detail: `It ended ${status}.`, retry: true });
    });
  }
});

describe("stored items", () => {
  test("open a job from the history, follow its changes, retry and forget it", async () => {
    const { queue, jobs, calls, finish } = setup();
    jobs.set("old", { id: "old", filename: "lecture.final.wav", created: "2025-03-09T14:05:00Z", status: "interrupted", error: "Hush stopped." });
    const item = await queue.open("old");
    assert.equal(item.kind, "stored");
    assert.equal(item.stem, "lecture.final");
    assert.equal(item.extension, "wav");
    assert.equal(item.url, "http://hush.test/api/transcriptions/old/audio");
    assert.equal(item.phase, "error");
    assert.equal(await queue.open("old"), item, "opened once");
    queue.retry(item);
    await until(() => item.phase === "transcribing", "transcribing");
    assert.deepEqual(calls.retry, ["old"]);
    finish(jobs.get("old"), "hello");
    await queue.jobChanged({ id: "old", status: "done" });
    assert.equal(item.phase, "done");
    assert.equal(item.result.text, "hello");
    assert.deepEqual(queue.remove("old"), [item]);
    assert.deepEqual(queue.items, []);
  });
});
