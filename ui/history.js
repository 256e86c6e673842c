// The history panel: every stored transcription, newest first, with search.
//
// The server keeps each recording and its job (queued → running → done / failed /
// cancelled / interrupted), so this panel shows the queue too: a queued job's position,
// a running job's progress, Cancel for both, and "Transcribe again" for jobs that did not
// finish. It polls while anything is queued or running and otherwise refreshes on demand.

import { cancelTranscription, deleteTranscription, listTranscriptions, retryTranscription } from "./api.js";
import { element } from "./dom.js";
import { formatClock } from "./format.js";

const POLL_MS = 1000;
const SEARCH_DELAY_MS = 250;
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

function when(iso) {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString([], { month: "short", day: "numeric" });
}

/** What the badge says: the status, with the queue position or the progress while active. */
function badgeText(job) {
  if (job.status === "queued") return job.position > 1 ? `Queued · ${job.position} ahead` : "Queued · next";
  if (job.status === "running") return `Transcribing ${Math.floor(job.progress * 100)}%`;
  return BADGES[job.status] || job.status;
}

/**
 * Wire the panel. `onOpen(job)` shows a job in the result view; `onDeleted(id)` and
 * `onChanged(job)` (a status changed) let the page follow the jobs it shows;
 * `onError(error)` reports failures. Returns {refresh}.
 */
export function initHistory({ panel, list, search, empty, onOpen, onDeleted, onChanged, onError }) {
  let jobs = [];
  let current = "";
  let timer = 0;
  let searchTimer = 0;
  let inFlight = null;

  async function refresh() {
    clearTimeout(timer);
    if (inFlight) inFlight.abort();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const page = await listTranscriptions({ q: search.value.trim(), signal: controller.signal });
      const before = new Map(jobs.map((job) => [job.id, job.status]));
      jobs = page.items;
      for (const job of jobs) if (before.has(job.id) && before.get(job.id) !== job.status) onChanged(job);
      render();
    } catch (error) {
      if (error.kind !== "aborted") onError(error);
    } finally {
      if (inFlight === controller) inFlight = null;
    }
    if (jobs.some((job) => ACTIVE.has(job.status))) timer = setTimeout(refresh, POLL_MS);
  }

  async function act(action, job, button) {
    button.disabled = true;
    try {
      await action(job.id);
      if (action === deleteTranscription) onDeleted(job.id);
    } catch (error) {
      onError(error);
    }
    refresh();
  }

  function row(job) {
    const name = element(
      "button",
      {
        type: "button",
        class: "history-open",
        "aria-current": job.id === current ? "true" : "false",
        onclick: () => {
          current = job.id;
          onOpen(job);
          render();
        },
      },
      element("span", { class: "history-name", text: job.filename }),
      element("span", {
        class: "history-meta",
        text: [when(job.created), job.duration ? formatClock(Math.max(1, job.duration)) : ""].filter(Boolean).join(" · "),
      }),
      job.text ? element("span", { class: "history-snippet", text: job.text }) : null,
    );
    const actions = element("div", { class: "history-actions" });
    if (ACTIVE.has(job.status)) {
      actions.append(
        element("button", {
          type: "button",
          class: "button button-ghost",
          text: "Cancel",
          "aria-label": `Cancel ${job.filename}`,
          onclick: (event) => act(cancelTranscription, job, event.currentTarget),
        }),
      );
    } else {
      if (UNFINISHED.has(job.status)) {
        actions.append(
          element("button", {
            type: "button",
            class: "button button-secondary",
            text: "Transcribe again",
            title: job.error || "",
            onclick: (event) => act(retryTranscription, job, event.currentTarget),
          }),
        );
      }
      actions.append(
        element("button", {
          type: "button",
          class: "button button-ghost",
          text: "Delete",
          "aria-label": `Delete ${job.filename}`,
          onclick: (event) => {
            if (confirm(`Delete “${job.filename}” and its recording? This cannot be undone.`)) {
              act(deleteTranscription, job, event.currentTarget);
            }
          },
        }),
      );
    }
    const badge = element("span", { class: "badge", "data-phase": job.status, text: badgeText(job) });
    const progress =
      job.status === "running"
        ? element(
            "div",
            {
              class: "history-progress",
              role: "progressbar",
              "aria-label": `Progress of ${job.filename}`,
              "aria-valuemin": "0",
              "aria-valuemax": "100",
              "aria-valuenow": String(Math.floor(job.progress * 100)),
              style: `--progress: ${job.progress}`,
            },
            element("div", { class: "progress-bar" }),
          )
        : null;
    return element(
      "li",
      { class: "history-item", "data-status": job.status, "data-id": job.id },
      name,
      element("div", { class: "history-side" }, badge, actions),
      progress,
    );
  }

  function render() {
    list.replaceChildren(...jobs.map(row));
    empty.hidden = jobs.length > 0;
    empty.textContent = search.value.trim()
      ? "No transcription contains these words."
      : "Transcriptions you make are kept here, on this computer.";
    panel.dataset.count = String(jobs.length);
  }

  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(refresh, SEARCH_DELAY_MS);
  });

  return { refresh };
}
