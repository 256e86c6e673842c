// The models panel: which speech models exist, which are on this computer, downloads
// with a progress bar, switching the model in use, deleting downloaded ones.
// It talks only through api.js; the health poll in app.js shows the switch happening.

import { activateModel, deleteModel, listModels, startDownload } from "./api.js";

const $ = (id) => document.getElementById(id);

function formatBytes(bytes) {
  if (!bytes) return "";
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} KB`;
}

function element(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export function initModels({ onActivated }) {
  const dialog = $("models-dialog");
  const list = $("models-list");
  const notice = $("models-notice");
  const custom = $("models-custom");
  let timer = null;

  function say(text, tone = "error") {
    notice.hidden = !text;
    notice.dataset.tone = tone;
    notice.textContent = text || "";
  }

  async function act(work, button) {
    if (button) button.disabled = true;
    try {
      await work();
      say("");
    } catch (error) {
      say(error.detail || error.message);
    } finally {
      await refresh();
    }
  }

  function progress(download) {
    const percent = download.bytes_total ? download.percent : 0;
    const speed = download.bytes_per_second ? ` · ${formatBytes(download.bytes_per_second)}/s` : "";
    const label = download.bytes_total
      ? `${percent}% of ${formatBytes(download.bytes_total)}${speed}`
      : "Starting download…";
    const bar = element("progress", { max: 100, value: percent, className: "model-progress" });
    bar.setAttribute("aria-label", `Downloading: ${label}`);
    return element("div", { className: "model-download" }, bar, element("span", { className: "model-meta" }, label));
  }

  function row(model) {
    const download = model.download;
    const downloading = download?.state === "downloading";
    const state = model.active ? "In use" : model.installed ? "On this computer" : downloading ? "Downloading" : "";
    const actions = element("div", { className: "model-actions" });
    if (!model.installed && !downloading) {
      const button = element("button", { type: "button", className: "button button-secondary", textContent: "Download" });
      button.setAttribute("aria-label", `Download ${model.name}`);
      button.addEventListener("click", () => act(() => startDownload(model.id), button));
      actions.append(button);
    }
    if (model.installed && !model.active) {
      const use = element("button", { type: "button", className: "button button-primary", textContent: "Use" });
      use.setAttribute("aria-label", `Use ${model.name}`);
      use.addEventListener("click", () =>
        act(async () => {
          await activateModel(model.id);
          onActivated();
        }, use),
      );
      const remove = element("button", { type: "button", className: "button button-ghost", textContent: "Delete" });
      remove.setAttribute("aria-label", `Delete ${model.name}`);
      remove.addEventListener("click", () => {
        if (window.confirm(`Delete ${model.name} from this computer? You can download it again later.`)) {
          act(() => deleteModel(model.id), remove);
        }
      });
      actions.append(use, remove);
    }
    const details = [model.note, formatBytes(model.size_bytes)].filter(Boolean).join(" · ");
    return element(
      "li",
      { className: "model-row" },
      element(
        "div",
        { className: "model-info" },
        element("span", { className: "model-name", textContent: model.name }),
        state ? element("span", { className: `model-state${model.active ? " active" : ""}`, textContent: state }) : null,
        element("span", { className: "model-meta", textContent: details }),
        downloading ? progress(download) : null,
        download?.state === "failed" ? element("span", { className: "model-error", textContent: download.error }) : null,
      ),
      actions,
    );
  }

  async function refresh() {
    clearTimeout(timer);
    if (!dialog.open) return;
    try {
      const { models } = await listModels();
      list.replaceChildren(...models.map(row));
      if (models.some((m) => m.download?.state === "downloading")) timer = setTimeout(refresh, 500);
    } catch (error) {
      say(error.detail || error.message);
    }
  }

  document.querySelectorAll("[data-open-models]").forEach((opener) =>
    opener.addEventListener("click", () => {
      say("");
      dialog.showModal();
      refresh();
    }),
  );
  dialog.addEventListener("close", () => clearTimeout(timer));
  $("models-close").addEventListener("click", () => dialog.close());
  custom.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("models-custom-id").value.trim();
    if (id) act(() => startDownload(id));
  });
}
