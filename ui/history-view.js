// The history panel: history.js's stored transcriptions as rows, with search, open, and each job's actions.

import { element } from "./dom.js";
import { formatClock } from "./format.js";
import { badgeText, emptyText, jobActions, rowText } from "./history.js";

function when(iso) {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString([], { month: "short", day: "numeric" });
}

/**
 * `history`: history.js's state; `panel`, `list`, `search` and `empty` are the panel's elements.
 * `onOpen(job)` shows a job in the result view; `typeAgain`: type-again.js, for dictations (the window
 * app only; without it they offer no "Type again"). Returns {render}: call it when `history` or `typeAgain` changed.
 */
export function createHistoryView({ history, panel, list, search, empty, onOpen, typeAgain = null }) {
  let current = ""; // the id of the job opened last, marked in the list

  /** The pressed button stays off while its request runs; the list is drawn again after it. */
  function press(event, action, job) {
    event.currentTarget.disabled = true;
    action(job);
  }

  const buttons = {
    cancel: (job) =>
      element("button", {
        type: "button",
        class: "button button-ghost",
        text: "Cancel",
        "aria-label": `Cancel ${rowText(job).title}`,
        onclick: (event) => press(event, history.cancel, job),
      }),
    retry: (job) =>
      element("button", {
        type: "button",
        class: "button button-secondary",
        text: "Transcribe again",
        title: job.error || "",
        onclick: (event) => press(event, history.retry, job),
      }),
    type: (job) =>
      typeAgain &&
      element("button", {
        type: "button",
        class: "button button-secondary history-type",
        text: typeAgain.label(job),
        title: "Click into the app the text should go to before the countdown ends",
        "aria-live": "polite",
        "data-phase": typeAgain.state.id === job.id ? typeAgain.state.phase : "idle",
        onclick: () => typeAgain.press(job),
      }),
    delete: (job) =>
      element("button", {
        type: "button",
        class: "button button-ghost",
        text: "Delete",
        "aria-label": `Delete ${rowText(job).title}`,
        onclick: (event) => {
          if (confirm(`Delete “${rowText(job).title}” and its recording? This cannot be undone.`)) {
            press(event, history.remove, job);
          }
        },
      }),
  };

  /** The button for `action`, marked with it so that the focus can find it again after a render. */
  function actionButton(action, job) {
    const button = buttons[action](job);
    button?.setAttribute("data-action", action);
    return button;
  }

  function row(job) {
    const { title, snippet } = rowText(job);
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
      element("span", { class: "history-name", text: title }),
      element("span", {
        class: "history-meta",
        text: [when(job.created), job.duration ? formatClock(Math.max(1, job.duration)) : "", job.dictation ? "Dictation" : ""]
          .filter(Boolean)
          .join(" · "),
      }),
      snippet ? element("span", { class: "history-snippet", text: snippet }) : null,
    );
    const actions = element(
      "div",
      { class: "history-actions" },
      ...jobActions(job).map((action) => actionButton(action, job)),
    );
    const badge = element("span", { class: "badge", "data-phase": job.status, text: badgeText(job) });
    const progress =
      job.status === "running"
        ? element(
            "div",
            {
              class: "history-progress",
              role: "progressbar",
              "aria-label": `Progress of ${title}`,
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

  /** The list is drawn anew (a poll, each second of a countdown): the button that had the keyboard
   * focus gets it back, so a keyboard user can press "Type again" a second time to stop it. */
  function render() {
    const jobs = history.jobs;
    const focused = document.activeElement;
    const had = list.contains(focused) ? [focused.closest("li")?.dataset.id, focused.dataset.action] : null;
    list.replaceChildren(...jobs.map(row));
    if (had?.[1]) {
      const item = [...list.children].find((li) => li.dataset.id === had[0]);
      item?.querySelector(`[data-action="${had[1]}"]`)?.focus();
    }
    empty.hidden = jobs.length > 0;
    empty.textContent = emptyText(history.query);
    panel.dataset.count = String(jobs.length);
  }

  search.addEventListener("input", () => history.search(search.value));

  return { render };
}
