// The only module that talks HTTP to the Hush server.
//
// Every failure becomes an ApiError whose `kind` says what happened:
//   "network"  the server could not be reached (no HTTP status at all),
//   "http"     the server answered with an error; `detail` is its {"detail": "..."},
//   "aborted"  the caller cancelled the request.

export class ApiError extends Error {
  constructor(kind, message, { status = 0, detail = "", retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

const UNREACHABLE = "Hush can't reach its server.";

function url(path) {
  // Relative to the page, so the UI also works behind a path prefix.
  return new URL(path, document.baseURI).toString();
}

/** The {"detail": "..."} of an error body, or a sentence about the status when there is none. */
function detailOf(status, bodyText) {
  try {
    const body = JSON.parse(bodyText);
    if (body && typeof body.detail === "string" && body.detail) return body.detail;
    if (body && Array.isArray(body.detail)) {
      return body.detail.map((d) => d.msg || String(d)).join("; ");
    }
  } catch {
    // not JSON: fall through
  }
  return `The server answered with an unexpected error (HTTP ${status}).`;
}

function retryAfterSeconds(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

function httpError(status, bodyText, retryAfter) {
  const detail = detailOf(status, bodyText);
  return new ApiError("http", detail, { status, detail, retryAfter: retryAfterSeconds(retryAfter) });
}

/**
 * One request to the API. `body` is sent as JSON; the answer is parsed as JSON (null for
 * 204), or returned as a Blob with `as: "blob"`. Failures throw an ApiError.
 */
async function request(path, { method = "GET", body, signal, as = "json" } = {}) {
  let response;
  try {
    response = await fetch(url(path), {
      method,
      cache: "no-store",
      signal,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (error?.name === "AbortError") throw new ApiError("aborted", "Cancelled.");
    throw new ApiError("network", UNREACHABLE);
  }
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    throw httpError(response.status, text, response.headers.get("Retry-After"));
  }
  try {
    if (as === "blob") return await response.blob();
    return response.status === 204 ? null : await response.json();
  } catch (error) {
    // Aborted while the body was still arriving (a newer history refresh took over): still an abort.
    if (error?.name === "AbortError") throw new ApiError("aborted", "Cancelled.");
    throw error;
  }
}

/** GET /api/health → {status, model: {id, state, detail, languages}, version, max_upload_bytes}. */
export const getHealth = ({ signal } = {}) => request("api/health", { signal });

/**
 * POST /api/transcriptions?wait=false with upload progress: the server stores the upload,
 * decodes it and answers 202 with the queued job ({id, status, progress, position…});
 * follow it with getTranscription(id). XMLHttpRequest because fetch has no upload progress.
 *
 * Returns {promise, abort}. `onProgress(fraction)` follows the upload (0…1);
 * `onUploaded()` fires once the last byte is sent and the server starts decoding.
 */
export function transcribe(file, filename, { language = "", task = "transcribe", speakers = "off" } = {}, handlers = {}) {
  const { onProgress = () => {}, onUploaded = () => {} } = handlers;
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, filename);
    form.append("language", language || "");
    form.append("task", task);
    form.append("speakers", String(speakers || "off"));

    xhr.open("POST", url("api/transcriptions?wait=false"));
    xhr.responseType = "text";
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.upload.onload = () => {
      onProgress(1);
      onUploaded();
    };
    xhr.onload = () => {
      const status = xhr.status;
      if (status < 200 || status >= 300) {
        reject(httpError(status, xhr.responseText, xhr.getResponseHeader("Retry-After")));
        return;
      }
      try {
        resolve(JSON.parse(xhr.responseText));
      } catch {
        reject(new ApiError("http", "The server sent an answer Hush could not read.", { status }));
      }
    };
    xhr.onerror = () => reject(new ApiError("network", UNREACHABLE));
    xhr.onabort = () => reject(new ApiError("aborted", "Cancelled."));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/** POST /api/exports/{format}: the server renders a transcript as txt, srt, vtt, words.vtt or json → a Blob. */
export function exportTranscript(format, transcript) {
  const body = {
    text: transcript.text,
    language: transcript.language ?? null,
    duration: transcript.duration ?? 0,
    segments: (transcript.segments || []).map(({ start, end, text, words = [], original = null, speaker = null }) => ({
      start,
      end,
      text,
      words,
      original,
      speaker,
    })),
    speakers: transcript.speakers || {},
  };
  return request(`api/exports/${encodeURIComponent(format)}`, { method: "POST", body, as: "blob" });
}

// -- models ---------------------------------------------------------------------------------
const modelPath = (id, action = "") => `api/models/${id.split("/").map(encodeURIComponent).join("/")}${action}`;

/** GET /api/models → {active, models: [{id, name, size_bytes, note, installed, active, download}]}. */
export const listModels = () => request("api/models");

/** GET /api/desktop: how the window app lives on this computer (404 outside the window app). */
export const getDesktop = () => request("api/desktop");
export const changeDesktop = (change) => request("api/desktop", { method: "PATCH", body: change });
/** POST /api/models/{id}/download → the download's progress {state, percent, bytes_per_second, error}. */
export const startDownload = (id) => request(modelPath(id, "/download"), { method: "POST" });
/** POST /api/models/{id}/activate: the server loads it in the background; /api/health follows. */
export const activateModel = (id) => request(modelPath(id, "/activate"), { method: "POST" });
/** DELETE /api/models/{id}: frees the disk space of a downloaded model. */
export const deleteModel = (id) => request(modelPath(id), { method: "DELETE" });
/** POST /api/models/local {path}: use a model folder or .pt file on this computer (converted once). */
export const useLocalModel = (path) => request("api/models/local", { method: "POST", body: { path } });

// -- the history: stored transcriptions ---------------------------------------------------------
const jobPath = (id, action = "") => `api/transcriptions/${encodeURIComponent(id)}${action}`;

/** GET /api/transcriptions → {items, total, offset, limit}, newest first; `q` searches the text. */
export function listTranscriptions({ q = "", limit = 50, offset = 0, signal } = {}) {
  const query = new URLSearchParams({ q, limit: String(limit), offset: String(offset) });
  return request(`api/transcriptions?${query}`, { signal });
}

/** GET /api/transcriptions/{id} → the job (status, progress, position…; the transcript once done). */
export const getTranscription = (id, { signal } = {}) => request(jobPath(id), { signal });
/** DELETE /api/transcriptions/{id}: the transcript and its recording. */
export const deleteTranscription = (id) => request(jobPath(id), { method: "DELETE" });
/** POST /api/transcriptions/{id}/retry: transcribe the stored recording again → the queued job. */
export const retryTranscription = (id) => request(jobPath(id, "/retry"), { method: "POST" });
/** POST /api/transcriptions/{id}/cancel: drop a queued job, stop a running one at its next 30 s window. */
export const cancelTranscription = (id) => request(jobPath(id, "/cancel"), { method: "POST" });

/**
 * PATCH /api/transcriptions/{id}/segments/{index}: a person's text for one segment → the job,
 * that segment corrected (the model's text kept as `original`) and its words placed again.
 */
export const correctSegment = (id, index, text) =>
  request(jobPath(id, `/segments/${index}`), { method: "PATCH", body: { text } });
/** DELETE /api/transcriptions/{id}/segments/{index}/correction → the job, that segment as the model wrote it. */
export const revertSegment = (id, index) => request(jobPath(id, `/segments/${index}/correction`), { method: "DELETE" });

// -- speakers: who said what -------------------------------------------------------------------
const speakerPath = (id, speaker, action) => jobPath(id, `/speakers/${encodeURIComponent(speaker)}/${action}`);

/** POST /api/transcriptions/{id}/speakers: label who speaks on the stored recording → the job. */
export const labelSpeakers = (id, speakers = "auto") =>
  request(jobPath(id, "/speakers"), { method: "POST", body: { speakers } });
/** PUT …/speakers/{n}/name: call speaker n `name` in every segment of theirs → the job. */
export const renameSpeaker = (id, speaker, name) =>
  request(speakerPath(id, speaker, "name"), { method: "PUT", body: { name } });
/** DELETE …/speakers/{n}/name: "Speaker n" again → the job. */
export const unnameSpeaker = (id, speaker) => request(speakerPath(id, speaker, "name"), { method: "DELETE" });
/** PUT …/speakers/{n}/merge: every segment of speaker n goes to `into` → the job. */
export const mergeSpeaker = (id, speaker, into) =>
  request(speakerPath(id, speaker, "merge"), { method: "PUT", body: { into } });
/** DELETE …/speakers/{n}/merge: undo that merge → the job. */
export const unmergeSpeaker = (id, speaker) => request(speakerPath(id, speaker, "merge"), { method: "DELETE" });
/** PUT …/segments/{index}/speaker: give one segment to another speaker (or a new number) → the job. */
export const moveSegment = (id, index, speaker) =>
  request(jobPath(id, `/segments/${index}/speaker`), { method: "PUT", body: { speaker } });
/** DELETE …/segments/{index}/speaker: the segment to the speaker the labeller heard again → the job. */
export const unmoveSegment = (id, index) => request(jobPath(id, `/segments/${index}/speaker`), { method: "DELETE" });

/** The stored recording, for the player and the download link. */
export const audioUrl = (id) => url(jobPath(id, "/audio"));

// -- dictation into other apps (the window app only) ---------------------------------------------
/**
 * POST /api/desktop/dictations: a dictation's clip → {id, status, text, delivery: {method, message}},
 * once it is stored, transcribed and typed (or, with `cancelled`, stored as cancelled).
 */
export async function sendDictation(blob, filename, { cancelled = false } = {}) {
  const form = new FormData();
  form.append("file", blob, filename);
  form.append("cancelled", String(cancelled));
  let response;
  try {
    response = await fetch(url("api/desktop/dictations"), { method: "POST", cache: "no-store", body: form });
  } catch {
    throw new ApiError("network", UNREACHABLE);
  }
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    throw httpError(response.status, text, response.headers.get("Retry-After"));
  }
  return response.json();
}

/** PUT /api/desktop/dictation/progress {level, text}: what the indicator shows while a dictation records. */
export const sendDictationProgress = (progress) =>
  request("api/desktop/dictation/progress", { method: "PUT", body: progress });
/** POST /api/desktop/dictations/{id}/type: a stored transcript typed again where the focus is → {method, message}. */
export const typeAgain = (id) => request(`api/desktop/dictations/${encodeURIComponent(id)}/type`, { method: "POST" });

// -- engines: this computer or servers ----------------------------------------------------------
/**
 * GET /api/engines → {kind: "local"|"servers", servers: [{id, url, model, concurrency, allow_unencrypted,
 * has_key}], where, from_environment, live, live_detail}. Keys are never sent back.
 */
export const getEngines = () => request("api/engines");
/** PUT /api/engines {kind, servers}: remembered for the next launch; a server's `key` null keeps its stored key. */
export const setEngines = (choice) => request("api/engines", { method: "PUT", body: choice });
/** POST /api/engines/test {url, key, model…} → {ok, detail, models, seconds, text, timed_words}. */
export const testServer = (server) => request("api/engines/test", { method: "POST", body: server });
