// The speech models: which exist, which are on this computer, downloads and their progress,
// switching the model in use, deleting downloaded ones. No DOM: node tests drive it with a
// stubbed API; models-view.js shows it. The health poll (health.js) shows a switch happening.

import { formatBytes } from "./format.js";

/** How often the list is asked again while a download runs. */
export const POLL_MS = 500;

const downloading = (model) => model.download?.state === "downloading";

/** A download's bar and words: {percent, label}; the size is unknown for a moment at the start. */
export function downloadProgress(download) {
  if (!download.bytes_total) return { percent: 0, label: "Starting download…" };
  const speed = download.bytes_per_second ? ` · ${formatBytes(download.bytes_per_second)}/s` : "";
  return { percent: download.percent, label: `${download.percent}% of ${formatBytes(download.bytes_total)}${speed}` };
}

/**
 * What a model's row shows: `state` ("In use", "On this computer", "Downloading"… or ""),
 * `details` (its note and size), `progress` while downloading, the `error` of a failed
 * download, and `actions`, the buttons it offers ("download", "use", "delete"). A model
 * found on this computer (not downloaded by Hush) is never deleted by Hush.
 */
export function modelRow(model) {
  const onComputer = model.found ? "Found on this computer" : "On this computer";
  const actions = [];
  if (!model.installed && !downloading(model)) actions.push("download");
  if (model.installed && !model.active) actions.push("use");
  if (model.installed && !model.active && !model.found) actions.push("delete");
  return {
    state: model.active ? "In use" : model.installed ? onComputer : downloading(model) ? "Downloading" : "",
    details: [model.note, model.size_bytes ? formatBytes(model.size_bytes) : ""].filter(Boolean).join(" · "),
    progress: downloading(model) ? downloadProgress(model.download) : null,
    error: model.download?.state === "failed" ? model.download.error : null,
    actions,
  };
}

/**
 * `api`: the functions of api.js this needs (listModels, startDownload, activateModel,
 * deleteModel, useLocalModel). `events`: changed() (the list or the notice is new),
 * activated() (the server is switching models). The list is only asked for while the panel
 * is open. Returns {models, notice, polling, open, close, refresh, download, use, useLocal, remove}.
 */
export function createModels({ api, events = {}, pollMs = POLL_MS }) {
  const emit = (name, ...args) => events[name]?.(...args);
  let models = [];
  let notice = ""; // what went wrong last, until the next action succeeds
  let shown = false;
  let timer = 0;

  async function refresh() {
    clearTimeout(timer);
    timer = 0;
    if (!shown) return;
    try {
      ({ models } = await api.listModels());
      if (models.some(downloading)) timer = setTimeout(refresh, pollMs);
    } catch (error) {
      notice = error.detail || error.message;
    }
    emit("changed");
  }

  async function act(work) {
    try {
      await work();
      notice = "";
    } catch (error) {
      notice = error.detail || error.message;
    }
    await refresh(); // draws the notice with the new list
  }

  async function activate(request) {
    await request();
    emit("activated");
  }

  return {
    get models() {
      return models;
    },
    get notice() {
      return notice;
    },
    /** Whether the next refresh is scheduled (a download runs). */
    get polling() {
      return timer !== 0;
    },
    /** The panel opened: a clean notice and a fresh list. */
    open() {
      shown = true;
      notice = "";
      emit("changed");
      return refresh();
    },
    close() {
      shown = false;
      clearTimeout(timer);
      timer = 0;
    },
    refresh,
    download: (id) => act(() => api.startDownload(id)),
    use: (id) => act(() => activate(() => api.activateModel(id))),
    useLocal: (path) => act(() => activate(() => api.useLocalModel(path))),
    remove: (id) => act(() => api.deleteModel(id)),
  };
}
