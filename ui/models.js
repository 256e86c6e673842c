// The models panel: which speech models exist, which are on this computer, downloads
// with a progress bar, switching the model in use, deleting downloaded ones.
// It talks only through api.js; the health poll (health.js) shows the switch happening.

import { activateModel, deleteModel, listModels, startDownload, useLocalModel } from "./api.js";
import { element } from "./dom.js";
import { formatBytes } from "./format.js";

const $ = (id) => document.getElementById(id);

export function initModels({ onActivated }) {
  const dialog = $("models-dialog");
  const list = $("models-list");
  const notice = $("models-notice");
  const custom = $("models-custom");
  const local = $("models-local");
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
    const bar = element("progress", { max: 100, value: percent, class: "model-progress", "aria-label": `Downloading: ${label}` });
    return element("div", { class: "model-download" }, bar, element("span", { class: "model-meta" }, label));
  }

  function useButton(model) {
    const use = element("button", {
      type: "button",
      class: "button button-primary",
      text: "Use",
      "aria-label": `Use ${model.name}`,
    });
    use.addEventListener("click", () =>
      act(async () => {
        await activateModel(model.id);
        onActivated();
      }, use),
    );
    return use;
  }

  function row(model) {
    const download = model.download;
    const downloading = download?.state === "downloading";
    const onComputer = model.found ? "Found on this computer" : "On this computer";
    const state = model.active ? "In use" : model.installed ? onComputer : downloading ? "Downloading" : "";
    const actions = element("div", { class: "model-actions" });
    if (!model.installed && !downloading) {
      const button = element("button", {
        type: "button",
        class: "button button-secondary",
        text: "Download",
        "aria-label": `Download ${model.name}`,
      });
      button.addEventListener("click", () => act(() => startDownload(model.id), button));
      actions.append(button);
    }
    if (model.installed && !model.active) {
      actions.append(useButton(model));
    }
    if (model.installed && !model.active && !model.found) {
      const remove = element("button", {
        type: "button",
        class: "button button-ghost",
        text: "Delete",
        "aria-label": `Delete ${model.name}`,
      });
      remove.addEventListener("click", () => {
        if (window.confirm(`Delete ${model.name} from this computer? You can download it again later.`)) {
          act(() => deleteModel(model.id), remove);
        }
      });
      actions.append(remove);
    }
    const details = [model.note, model.size_bytes ? formatBytes(model.size_bytes) : ""].filter(Boolean).join(" · ");
    return element(
      "li",
      { class: "model-row" },
      element(
        "div",
        { class: "model-info" },
        element("span", { class: "model-name", text: model.name }),
        state ? element("span", { class: `model-state${model.active ? " active" : ""}`, text: state }) : null,
        element("span", { class: "model-meta", text: details }),
        downloading ? progress(download) : null,
        download?.state === "failed" ? element("span", { class: "model-error", text: download.error }) : null,
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
  local.addEventListener("submit", (event) => {
    event.preventDefault();
    const path = $("models-local-path").value.trim();
    if (path) {
      act(async () => {
        await useLocalModel(path);
        onActivated();
      });
    }
  });
  // The desktop window can show the system's folder picker; a browser cannot hand a path to a page.
  const browse = $("models-local-browse");
  const chooseFolder = window.pywebview?.api?.choose_model_folder;
  browse.hidden = !chooseFolder;
  browse.addEventListener("click", async () => {
    const chosen = await window.pywebview.api.choose_model_folder();
    if (chosen) $("models-local-path").value = chosen;
  });
  custom.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("models-custom-id").value.trim();
    if (id) act(() => startDownload(id));
  });
}
