// The items this page transcribes (each recording or imported file, and each transcription
// opened from the history) and the state machine they go through. No DOM: node tests drive
// it with a stubbed API.
//
//   item.phase:  held → queued → uploading → transcribing → done
//                with error / cancelled as ends that keep the audio and offer "Try again".
//
// An item is held while the model is not ready (or the server answered 503) and sent once
// /api/health says it is. One upload at a time: the next waits until the previous job
// has ended. The server answers an upload at once with its stored job; the item keeps the
// job's id, follows it with GET /api/transcriptions/{id} and cancels it by that id, so
// two tabs (or two recordings of the same name) never mistake each other's jobs.
// Items of kind "stored" come from the history: their audio and transcript are the
// server's, and the history panel reports their changes (jobChanged).

import { splitName, stamp } from "./format.js";

/** The phases in which an item still has work ahead. */
export const WORKING = new Set(["held", "queued", "uploading", "transcribing"]);
/** How often a job in progress is asked for its status. */
export const POLL_MS = 500;

/** An item's fields for a finished recording ({blob, extension, seconds, startedAt: Date}). */
export function recordingItem({ blob, extension, seconds, startedAt }) {
  return {
    kind: "recording",
    blob,
    title: `Recording at ${startedAt.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`,
    uploadName: `recording.${extension}`,
    stem: `hush-recording-${stamp(startedAt)}`,
    extension,
    seconds,
  };
}

/** An item's fields for an imported File. */
export function fileItem(file) {
  const name = file.name || "";
  return { kind: "file", blob: file, title: name || "Imported file", uploadName: name || "upload", ...splitName(name) };
}

/**
 * `api`: the functions of api.js this needs (transcribe, getTranscription,
 * cancelTranscription, retryTranscription, audioUrl). `model`: the live health state
 * ({reachable, state, maxUploadBytes}). `options()`: the language and task chosen now.
 * `events`: changed(item?), progress(item) (upload progress only), result(item) (a
 * transcript arrived), jobsChanged() (the server's list changed), checkHealth() (the
 * server seems unwell), error(error) (an action failed).
 */
export function createQueue({ api, model, options, events = {}, pollMs = POLL_MS }) {
  const items = [];
  let nextId = 1;
  let active = null; // the upload item whose job is in flight
  let retryTimer = 0;

  const emit = (name, ...args) => events[name]?.(...args);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function create(fields) {
    const item = {
      id: nextId++,
      phase: "held",
      progress: 0, // of the upload, 0…1
      serverProgress: 0, // of the transcription, 0…1
      position: 0, // jobs ahead of this one on the server
      result: null,
      error: null,
      note: "",
      retryAt: 0,
      jobId: null,
      attempt: 0, // bumped by every send and cancel: answers to an older attempt are stale
      options: options(),
      created: Date.now(),
      seconds: 0,
      ...fields,
    };
    items.push(item);
    return item;
  }

  /** A recording or file to transcribe: {kind, blob, url, title, uploadName, stem, extension, seconds}. */
  function add(fields) {
    const item = create(fields);
    pump();
    return item;
  }

  /** Send the next item when no upload is in flight and the model is ready. */
  function pump() {
    clearTimeout(retryTimer);
    const now = Date.now();
    const ready = model.reachable !== false && model.state === "ready";
    for (const item of items) {
      if (item.phase === "held" && ready && now >= item.retryAt) item.phase = "queued";
    }
    const next = items.find((i) => i.phase === "queued");
    if (next && !active) send(next);
    const waiting = items.filter((i) => i.phase === "held" && i.retryAt > Date.now());
    if (waiting.length) {
      const soonest = Math.min(...waiting.map((i) => i.retryAt));
      retryTimer = setTimeout(pump, Math.max(50, soonest - Date.now()));
    }
    emit("changed");
  }

  async function send(item) {
    const limit = model.maxUploadBytes;
    if (limit && item.blob.size > limit) {
      // Refused before sending: a browser that is still uploading when the server answers
      // 413 and closes the connection often reports a network error instead of the answer.
      fail(item, { kind: "too-large", size: item.blob.size, limit });
      pump();
      return;
    }
    const attempt = ++item.attempt;
    const current = () => item.attempt === attempt;
    active = item;
    Object.assign(item, {
      phase: "uploading",
      progress: 0,
      serverProgress: 0,
      position: 0,
      error: null,
      note: "",
      retryAt: 0,
      jobId: null,
      workStarted: 0,
    });
    emit("changed", item);
    const request = api.transcribe(item.blob, item.uploadName, item.options, {
      onProgress: (fraction) => {
        if (!current()) return;
        item.progress = fraction;
        emit("progress", item);
      },
      onUploaded: () => {
        if (!current() || item.phase !== "uploading") return;
        item.phase = "transcribing";
        item.workStarted = performance.now();
        emit("changed", item);
      },
    });
    item.abort = request.abort;
    try {
      const job = await request.promise;
      if (!current()) {
        // Cancelled while the server was still decoding the upload: cancel its job now.
        await api.cancelTranscription(job.id).catch(() => {});
      } else {
        item.jobId = job.id;
        emit("jobsChanged"); // the stored job joins the history's queue
        await follow(item, job, current);
      }
    } catch (error) {
      if (current()) fail(item, error);
    } finally {
      if (current()) item.abort = null;
      if (current() && active === item) active = null;
    }
    emit("jobsChanged");
    pump();
  }

  /** Poll the item's job until it ends, or until this attempt is cancelled. */
  async function follow(item, job, current) {
    for (;;) {
      applyJob(item, job);
      if (item.phase !== "transcribing") return;
      await sleep(pollMs);
      if (!current()) return;
      job = await api.getTranscription(job.id);
      if (!current()) return;
    }
  }

  /** Bring an item in line with its stored job: progress and queue position, transcript, or how it ended. */
  function applyJob(item, job) {
    item.seconds = job.duration || item.seconds;
    if (job.status === "done") {
      Object.assign(item, { result: job, phase: "done", error: null });
      emit("result", item);
    } else if (job.status === "queued" || job.status === "running") {
      item.phase = "transcribing";
      item.workStarted ||= performance.now();
      item.position = job.status === "queued" ? job.position || 0 : 0;
      item.serverProgress = job.progress || 0;
      item.stage = job.stage || null; // a remote engine's words: how much audio is sent, how much is back
      item.partial = job.segments || []; // the windows decoded so far
    } else {
      // failed, cancelled (elsewhere: the history, another client) or interrupted
      item.phase = "error";
      item.error = { kind: "job", status: job.status, detail: job.error || "", retry: true };
    }
    emit("changed", item);
  }

  function fail(item, error) {
    if (error.kind === "aborted") {
      item.phase = "cancelled";
      return;
    }
    if (error.kind === "http" && error.status === 503) {
      // The model is loading or missing: hold the audio and try again when it is ready.
      item.phase = "held";
      item.note = error.detail;
      item.retryAt = Date.now() + 1000 * Math.min(Math.max(error.retryAfter ?? 5, 1), 60);
      emit("checkHealth");
      return;
    }
    item.phase = "error";
    if (error.kind === "network") {
      item.error = { kind: "network", retry: true };
      emit("checkHealth");
    } else if (error.kind === "too-large") {
      item.error = { ...error, retry: false };
    } else {
      const status = error.status || 0;
      item.error = { kind: "http", status, detail: error.detail || error.message, retry: ![400, 413].includes(status) };
    }
  }

  function retry(item) {
    if (item.kind === "stored") {
      retryStored(item);
      return;
    }
    Object.assign(item, { options: options(), phase: "queued", error: null, retryAt: 0 });
    pump();
  }

  async function retryStored(item) {
    try {
      applyJob(item, await api.retryTranscription(item.jobId));
    } catch (error) {
      emit("error", error);
    }
    emit("jobsChanged");
  }

  function cancel(item) {
    if (item.kind === "stored") {
      api.cancelTranscription(item.jobId).catch((error) => emit("error", error));
      return;
    }
    if (!WORKING.has(item.phase)) return;
    const { phase, jobId } = item;
    item.attempt++; // whatever the cancelled attempt still hears is ignored
    item.phase = "cancelled";
    if (phase === "uploading") item.abort?.();
    else if (jobId) api.cancelTranscription(jobId).catch(() => {}); // a 409: it ended meanwhile
    // Transcribing without an id yet: send() cancels the job when the server names it.
    item.abort = null;
    if (active === item) active = null;
    pump();
  }

  /** The item of a stored job, made from the server's copy if the page has none. */
  async function open(jobId) {
    const known = items.find((i) => i.jobId === jobId);
    if (known) return known;
    const job = await api.getTranscription(jobId);
    const again = items.find((i) => i.jobId === jobId);
    if (again) return again;
    const item = create({
      kind: "stored",
      jobId: job.id,
      blob: null,
      title: job.filename,
      ...splitName(job.filename),
      url: api.audioUrl(job.id),
      phase: "done",
      created: Date.parse(job.created),
    });
    applyJob(item, job);
    return item;
  }

  /** The history saw a job's status change: update the stored item showing it, if any. */
  async function jobChanged(job) {
    const item = items.find((i) => i.jobId === job.id && i.kind === "stored");
    if (!item) return;
    try {
      applyJob(item, job.status === "done" ? await api.getTranscription(job.id) : job);
    } catch (error) {
      emit("error", error);
    }
  }

  /** Forget the items of a deleted job; returns them. */
  function remove(jobId) {
    const gone = items.filter((i) => i.jobId === jobId);
    for (const item of gone) items.splice(items.indexOf(item), 1);
    return gone;
  }

  const busy = () => items.some((i) => WORKING.has(i.phase));

  return { items, add, pump, retry, cancel, open, jobChanged, remove, busy };
}
