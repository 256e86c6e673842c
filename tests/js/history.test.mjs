// The history's state (ui/history.js) against a fake server: run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ApiError } from "../../ui/api.js";
import { badgeText, changedJobs, createHistory, emptyText, jobActions, rowText, TITLE_CHARS } from "../../ui/history.js";

/** Resolves once `check()` is true (polled every millisecond), or fails after `ms`. */
async function until(check, what = "the condition", ms = 2000) {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** A server holding `jobs`; with `hold`, list requests wait until the test answers them. */
function fakeServer(jobs = []) {
  const lists = []; // every list request: {q, signal, answer()}
  const calls = { cancel: [], retry: [], delete: [] };
  const failures = {}; // action → the ApiError it throws
  let hold = false;

  const act = (name, change) => async (id) => {
    calls[name].push(id);
    if (failures[name]) throw failures[name];
    change(id);
  };
  const api = {
    listTranscriptions({ q, signal }) {
      if (failures.list) return Promise.reject(failures.list);
      return new Promise((resolve, reject) => {
        const request = { q, signal, answer: () => resolve({ items: jobs.map((job) => ({ ...job })) }) };
        signal.addEventListener("abort", () => reject(new ApiError("aborted", "Cancelled.")));
        lists.push(request);
        if (!hold) request.answer();
      });
    },
    cancelTranscription: act("cancel", (id) => Object.assign(jobs.find((j) => j.id === id), { status: "cancelled" })),
    retryTranscription: act("retry", (id) => Object.assign(jobs.find((j) => j.id === id), { status: "queued", position: 1 })),
    deleteTranscription: act("delete", (id) => jobs.splice(jobs.findIndex((j) => j.id === id), 1)),
  };
  return { api, jobs, lists, calls, failures, holdLists: (on) => (hold = on) };
}

/**
 * A history on a fake server; `pollMs` long by default, so tests see the decision to poll, not
 * the poll. When the test `t` ends, passed or failed, the server empties and nothing polls on.
 */
function setup(t, jobs, { pollMs = 60_000, searchDelayMs = 5 } = {}) {
  const server = fakeServer(jobs);
  const events = { changed: 0, jobChanged: [], deleted: [], errors: [] };
  const history = createHistory({
    api: server.api,
    pollMs,
    searchDelayMs,
    events: {
      changed: () => events.changed++,
      jobChanged: (job) => events.jobChanged.push(job),
      deleted: (id) => events.deleted.push(id),
      error: (error) => events.errors.push(error),
    },
  });
  t.after(async () => {
    delete server.failures.list;
    server.holdLists(false);
    server.jobs.length = 0;
    await history.refresh();
  });
  return { ...server, events, history };
}

const job = (id, status, fields = {}) => ({ id, filename: `${id}.wav`, status, progress: 0, position: 0, ...fields });

describe("a job's row", () => {
  test("its badge says the status, the queue position or the progress", () => {
    assert.equal(badgeText(job("a", "queued", { position: 1 })), "Queued · next");
    assert.equal(badgeText(job("a", "queued", { position: 3 })), "Queued · 3 ahead");
    assert.equal(badgeText(job("a", "running", { progress: 0.426 })), "Transcribing 42%");
    assert.equal(badgeText(job("a", "interrupted")), "Interrupted");
    assert.equal(badgeText(job("a", "something new")), "something new");
  });

  test("offers Cancel while active, Transcribe again for unfinished jobs, Delete otherwise", () => {
    assert.deepEqual(jobActions(job("a", "queued")), ["cancel"]);
    assert.deepEqual(jobActions(job("a", "running")), ["cancel"]);
    for (const status of ["failed", "cancelled", "interrupted"]) {
      assert.deepEqual(jobActions(job("a", status)), ["retry", "delete"], status);
    }
    assert.deepEqual(jobActions(job("a", "done")), ["delete"]);
    assert.deepEqual(jobActions({ ...job("a", "done"), dictation: true }), ["type", "delete"]);
    assert.deepEqual(jobActions({ ...job("a", "cancelled"), dictation: true }), ["retry", "delete"]);
  });

  test("an empty list says whether the search found nothing", () => {
    assert.equal(emptyText(""), "Transcriptions you make are kept here, on this computer.");
    assert.equal(emptyText("seven"), "No transcription contains these words.");
  });

  test("a status change is a change; a new job or the same status is not", () => {
    const before = [job("a", "running"), job("b", "done")];
    const after = [job("c", "queued"), job("a", "done"), job("b", "done")];
    assert.deepEqual(
      changedJobs(before, after).map((j) => j.id),
      ["a"],
    );
  });
});

describe("the list", () => {
  test("polls while a job is queued or running, and stops once none is", async (t) => {
    const { history, jobs, events } = setup(t, [job("a", "running", { progress: 0.5 }), job("b", "done")]);
    await history.refresh();
    assert.equal(history.jobs.length, 2);
    assert.equal(events.changed, 1);
    assert.ok(history.polling, "a running job is followed");
    jobs[0].status = "done";
    await history.refresh();
    assert.ok(!history.polling, "nothing left to follow");
    assert.deepEqual(
      events.jobChanged.map((j) => [j.id, j.status]),
      [["a", "done"]],
    );
  });

  test("asks again after the poll interval until the job ends", async (t) => {
    const { history, jobs, lists, events } = setup(t, [job("a", "queued", { position: 1 })], { pollMs: 1 });
    await history.refresh();
    await until(() => lists.length >= 3, "two polls");
    jobs[0].status = "running";
    await until(() => events.jobChanged.length === 1, "the status change");
    jobs[0].status = "done";
    await until(() => events.jobChanged.length === 2, "the end of the job");
    await history.refresh();
    assert.ok(!history.polling);
  });

  test("a search is sent once typing pauses, with the last text", async (t) => {
    const { history, lists, events } = setup(t, []);
    history.search("th");
    history.search("thr");
    history.search("  three ");
    assert.equal(lists.length, 0, "not while typing");
    await until(() => lists.length === 1, "the search");
    // The earlier searches' timers were due before the last one's: had they not been dropped, they would have run by now.
    assert.deepEqual(
      lists.map((request) => request.q),
      ["three"],
    );
    assert.equal(history.query, "three");
    await until(() => events.changed === 1, "the answer");
  });

  test("a newer refresh drops the one in flight: its end is neither shown, nor an error, nor a poll", async (t) => {
    const { history, lists, events, holdLists, jobs } = setup(t, [job("a", "running")]);
    await history.refresh();
    assert.ok(history.polling);
    holdLists(true);
    const first = history.refresh();
    jobs.push(job("b", "queued"));
    const second = history.refresh();
    assert.ok(lists[1].signal.aborted);
    assert.ok(!lists[2].signal.aborted);
    await first;
    assert.ok(!history.polling, "the refresh still in flight decides whether to poll");
    lists[2].answer();
    await second;
    assert.deepEqual(
      history.jobs.map((j) => j.id),
      ["a", "b"],
    );
    assert.equal(events.changed, 2);
    assert.deepEqual(events.errors, []);
    assert.ok(history.polling);
  });
});

describe("actions", () => {
  test("cancel, retry and delete reach the server by id, and the list is asked again", async (t) => {
    const { history, calls, lists, events } = setup(t, [job("a", "running"), job("b", "failed"), job("c", "done")]);
    await history.refresh();
    await history.cancel(history.jobs[0]);
    assert.deepEqual(calls.cancel, ["a"]);
    assert.equal(history.jobs[0].status, "cancelled");
    await history.retry(history.jobs[1]);
    assert.deepEqual(calls.retry, ["b"]);
    assert.equal(history.jobs[1].status, "queued");
    await history.remove(history.jobs[2]);
    assert.deepEqual(calls.delete, ["c"]);
    assert.deepEqual(events.deleted, ["c"]);
    assert.deepEqual(
      history.jobs.map((j) => j.id),
      ["a", "b"],
    );
    assert.equal(lists.length, 4);
    await history.cancel(history.jobs[1]);
    assert.ok(!history.polling);
  });

  test("a failed action is reported, deletes nothing, and the list is still asked again", async (t) => {
    const { history, failures, lists, events } = setup(t, [job("a", "done")]);
    await history.refresh();
    failures.delete = new ApiError("http", "The job is still running.", { status: 409, detail: "The job is still running." });
    await history.remove(history.jobs[0]);
    assert.deepEqual(events.errors, [failures.delete]);
    assert.deepEqual(events.deleted, []);
    assert.equal(lists.length, 2);
    assert.equal(history.jobs.length, 1);
  });

  test("a failed list is reported and keeps the jobs shown", async (t) => {
    const { history, failures, events } = setup(t, [job("a", "done")]);
    await history.refresh();
    failures.list = new ApiError("network", "Hush can't reach its server.");
    await history.refresh();
    assert.equal(events.errors.length, 1);
    assert.equal(events.errors[0].kind, "network");
    assert.deepEqual(
      history.jobs.map((j) => j.id),
      ["a"],
    );
  });
});

test("a file's row shows its name and its text; a recording's or a dictation's its first words", () => {
  assert.deepEqual(rowText({ filename: "kiwi-memo.wav", text: " Kiwis  are ripe. " }), {
    title: "kiwi-memo.wav",
    snippet: "Kiwis are ripe.",
  });
  const short = { filename: "dictation.webm", dictation: true, text: " The museum will be closed on Monday. " };
  assert.deepEqual(rowText(short), { title: "The museum will be closed on Monday.", snippet: "" });
  const long = "The small neighbor checked the yellow basket near the river although nobody had asked him to.";
  const { title, snippet } = rowText({ filename: "recording.webm", text: long });
  assert.equal(title, "The small neighbor checked the yellow basket near the river…");
  assert.ok(title.length <= TITLE_CHARS + 1);
  assert.equal(snippet, "…although nobody had asked him to.");
  assert.equal(title.slice(0, -1) + " " + snippet.slice(1), long); // nothing lost between the two
});

test("a recording or a dictation without words yet is named by what it is", () => {
  assert.deepEqual(rowText({ filename: "dictation.webm", dictation: true, text: "" }), { title: "Dictation", snippet: "" });
  assert.deepEqual(rowText({ filename: "recording.ogg", text: null }), { title: "Recording", snippet: "" });
  assert.equal(rowText({ filename: "recording of the board.webm", text: "Hello." }).title, "recording of the board.webm");
});
