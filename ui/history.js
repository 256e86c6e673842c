// The history: every stored transcription, newest first, with search. No DOM: node tests
// drive it with a stubbed API; history-view.js shows it.
//
// The server keeps each recording and its job (queued → running → done / failed /
// cancelled / interrupted), so the history is the server's queue too: a queued job's
// position, a running job's progress, Cancel for both, and "Transcribe again" for jobs that
// did not finish. It polls while anything is queued or running and otherwise refreshes on demand.

/** How often the list is asked again while a job is queued or running. */
export const POLL_MS = 1000;
/** How long typing in the search box pauses before the search is sent. */
export const SEARCH_DELAY_MS = 250;

const ACTIVE = new Set(["queued", "running"]);
const UNFINISHED = new Set(["failed", "cancelled", "interrupted"]);
const BADGES = {
  queued: "Queued",
  running: "Transcribing",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};

/** Whether the job is waiting or being transcribed: the list follows it. */
export const isActive = (job) => ACTIVE.has(job.status);

/** What the badge says: the status, with the queue position or the progress while active. */
export function badgeText(job) {
  if (job.status === "queued") return job.position > 1 ? `Queued · ${job.position} ahead` : "Queued · next";
  if (job.status === "running") return `Transcribing ${Math.floor(job.progress * 100)}%`;
  return BADGES[job.status] || job.status;
}

/** The page sends every recording as "recording.webm" and every dictation as "dictation.webm". */
const GENERIC_NAME = /^(recording|dictation)\.[a-z0-9]+$/i;
/** A row's title from its words is at most this long, cut at a word. */
export const TITLE_CHARS = 60;

/**
 * What a row shows: {title, snippet}. A file by its name, its text under it; a recording or a
 * dictation by its first words, the rest under them (by what it is while it has no text).
 */
export function rowText(job) {
  const text = (job.text || "").trim().replace(/\s+/g, " ");
  if (!job.dictation && !GENERIC_NAME.test(job.filename || "")) return { title: job.filename, snippet: text };
  if (!text) return { title: job.dictation ? "Dictation" : "Recording", snippet: "" };
  if (text.length <= TITLE_CHARS) return { title: text, snippet: "" };
  const head = text.slice(0, TITLE_CHARS + 1);
  const space = head.lastIndexOf(" ");
  const cut = space > TITLE_CHARS / 3 ? space : TITLE_CHARS;
  return { title: `${text.slice(0, cut)}…`, snippet: `…${text.slice(cut).trimStart()}` };
}

/** The buttons a job's row offers: Cancel while active; else Delete, after "Transcribe again" if it did
 * not finish, or after "Type again" for a finished dictation. */
export function jobActions(job) {
  if (isActive(job)) return ["cancel"];
  if (UNFINISHED.has(job.status)) return ["retry", "delete"];
  return job.dictation && job.status === "done" ? ["type", "delete"] : ["delete"];
}

/** What an empty list says: nothing found for the search, or nothing stored yet. */
export function emptyText(query) {
  return query ? "No transcription contains these words." : "Transcriptions you make are kept here, on this computer.";
}

/** The jobs in `after` whose status differs from the same job's in `before` (new jobs are not changes). */
export function changedJobs(before, after) {
  const was = new Map(before.map((job) => [job.id, job.status]));
  return after.filter((job) => was.has(job.id) && was.get(job.id) !== job.status);
}

/**
 * `api`: the functions of api.js this needs (listTranscriptions, cancelTranscription,
 * retryTranscription, deleteTranscription). `events`: changed() (the list is new),
 * jobChanged(job) (a listed job's status changed), deleted(id), error(error) (a request failed).
 * Returns {jobs, query, polling, refresh, search, cancel, retry, remove}.
 */
export function createHistory({ api, events = {}, pollMs = POLL_MS, searchDelayMs = SEARCH_DELAY_MS }) {
  const emit = (name, ...args) => events[name]?.(...args);
  let jobs = [];
  let query = "";
  let timer = 0;
  let searchTimer = 0;
  let inFlight = null;

  /** Ask for the list now (a request still in flight is dropped); poll again while a job is active. */
  async function refresh() {
    clearTimeout(timer);
    timer = 0;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const page = await api.listTranscriptions({ q: query, signal: controller.signal });
      const before = jobs;
      jobs = page.items;
      for (const job of changedJobs(before, jobs)) emit("jobChanged", job);
      emit("changed");
    } catch (error) {
      if (error.kind !== "aborted") emit("error", error);
    } finally {
      if (inFlight === controller) inFlight = null;
    }
    // A newer refresh has taken over: it decides about polling.
    if (inFlight === null && jobs.some(isActive)) timer = setTimeout(refresh, pollMs);
  }

  /** The search box changed: search once typing pauses. */
  function search(text) {
    query = text.trim();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(refresh, searchDelayMs);
  }

  async function act(request, job) {
    try {
      await request(job.id);
      if (request === api.deleteTranscription) emit("deleted", job.id);
    } catch (error) {
      emit("error", error);
    }
    await refresh();
  }

  return {
    get jobs() {
      return jobs;
    },
    get query() {
      return query;
    },
    /** Whether the next refresh is scheduled (some job is queued or running). */
    get polling() {
      return timer !== 0;
    },
    refresh,
    search,
    cancel: (job) => act(api.cancelTranscription, job),
    retry: (job) => act(api.retryTranscription, job),
    remove: (job) => act(api.deleteTranscription, job),
  };
}
