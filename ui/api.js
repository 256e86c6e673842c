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

async function failure(response) {
  const text = await response.text().catch(() => "");
  const detail = detailOf(response.status, text);
  return new ApiError("http", detail, {
    status: response.status,
    detail,
    retryAfter: retryAfterSeconds(response.headers.get("Retry-After")),
  });
}

/** GET /api/health → {status, model: {id, state, detail, languages}, version}. */
export async function getHealth({ signal } = {}) {
  let response;
  try {
    response = await fetch(url("api/health"), { cache: "no-store", signal });
  } catch (error) {
    if (error.name === "AbortError") throw new ApiError("aborted", "Cancelled.");
    throw new ApiError("network", UNREACHABLE);
  }
  if (!response.ok) throw await failure(response);
  return response.json();
}

/**
 * POST /api/transcriptions with upload progress.
 *
 * Returns {promise, abort}. `onProgress(fraction)` follows the upload (0…1);
 * `onUploaded()` fires once the last byte is sent and the server starts working.
 */
export function transcribe(file, filename, { language = "", task = "transcribe" } = {}, handlers = {}) {
  const { onProgress = () => {}, onUploaded = () => {} } = handlers;
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, filename);
    form.append("language", language || "");
    form.append("task", task);

    xhr.open("POST", url("api/transcriptions"));
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
      if (status >= 200 && status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText));
        } catch {
          reject(new ApiError("http", "The server sent a transcript Hush could not read.", { status }));
        }
        return;
      }
      const detail = detailOf(status, xhr.responseText);
      reject(
        new ApiError("http", detail, {
          status,
          detail,
          retryAfter: retryAfterSeconds(xhr.getResponseHeader("Retry-After")),
        }),
      );
    };
    xhr.onerror = () => reject(new ApiError("network", UNREACHABLE));
    xhr.onabort = () => reject(new ApiError("aborted", "Cancelled."));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/**
 * POST /api/exports/{format}: the server renders txt, srt, vtt or json.
 * Returns {blob, filename} with the server's Content-Disposition file name.
 */
export async function exportTranscript(format, transcript) {
  const body = {
    text: transcript.text,
    language: transcript.language ?? null,
    duration: transcript.duration ?? 0,
    segments: (transcript.segments || []).map(({ start, end, text }) => ({ start, end, text })),
  };
  let response;
  try {
    response = await fetch(url(`api/exports/${encodeURIComponent(format)}`), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError("network", UNREACHABLE);
  }
  if (!response.ok) throw await failure(response);
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  return { blob: await response.blob(), filename: match ? decodeURIComponent(match[1]) : `transcript.${format}` };
}

/** A JSON request to the API; resolves to the parsed body (or null for 204). */
async function request(method, path, body) {
  let response;
  try {
    response = await fetch(url(path), {
      method,
      cache: "no-store",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("network", UNREACHABLE);
  }
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

const modelPath = (id, action = "") => `api/models/${id.split("/").map(encodeURIComponent).join("/")}${action}`;

/** GET /api/models → {active, models: [{id, name, size_bytes, note, installed, active, download}]}. */
export const listModels = () => request("GET", "api/models");
/** POST /api/models/{id}/download → the download's progress {state, percent, bytes_per_second, error}. */
export const startDownload = (id) => request("POST", modelPath(id, "/download"));
/** POST /api/models/{id}/activate: the server loads it in the background; /api/health follows. */
export const activateModel = (id) => request("POST", modelPath(id, "/activate"));
/** DELETE /api/models/{id}: frees the disk space of a downloaded model. */
export const deleteModel = (id) => request("DELETE", modelPath(id));

// -- the history: stored transcriptions ---------------------------------------------------------
async function call(path, { method = "GET", signal } = {}) {
  let response;
  try {
    response = await fetch(url(path), { method, cache: "no-store", signal });
  } catch (error) {
    if (error.name === "AbortError") throw new ApiError("aborted", "Cancelled.");
    throw new ApiError("network", UNREACHABLE);
  }
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

/** GET /api/transcriptions → {items, total, offset, limit}, newest first; `q` searches the text. */
export function listTranscriptions({ q = "", limit = 50, offset = 0, signal } = {}) {
  const query = new URLSearchParams({ q, limit: String(limit), offset: String(offset) });
  return call(`api/transcriptions?${query}`, { signal });
}

/** GET /api/transcriptions/{id} → the job with its segments (status, progress, position…). */
export function getTranscription(id) {
  return call(`api/transcriptions/${encodeURIComponent(id)}`);
}

/** DELETE /api/transcriptions/{id}: the transcript and its recording. */
export function deleteTranscription(id) {
  return call(`api/transcriptions/${encodeURIComponent(id)}`, { method: "DELETE" });
}

/** POST /api/transcriptions/{id}/retry: transcribe the stored recording again → the queued job. */
export function retryTranscription(id) {
  return call(`api/transcriptions/${encodeURIComponent(id)}/retry`, { method: "POST" });
}

/** POST /api/transcriptions/{id}/cancel: drop a queued job, stop a running one at its next 30 s window. */
export function cancelTranscription(id) {
  return call(`api/transcriptions/${encodeURIComponent(id)}/cancel`, { method: "POST" });
}

/** The stored recording, for the player and the download link. */
export function audioUrl(id) {
  return url(`api/transcriptions/${encodeURIComponent(id)}/audio`);
}
