// The models panel (a dialog): models.js's list as rows with their buttons and download
// progress, and the forms that add a model by its hub id or by a path on this computer.

import { element } from "./dom.js";
import { modelRow } from "./models.js";

/**
 * `models`: models.js's state; `ui`: elements.js (the dialog, its list, notice and forms, and
 * the buttons that open it). Returns {render}: call it when `models` changed.
 */
export function createModelsView({ models, ui }) {
  const button = (model, { text, kind, action, ask = "" }) =>
    element("button", {
      type: "button",
      class: `button ${kind}`,
      text,
      "aria-label": `${text} ${model.name}`,
      onclick: (event) => {
        if (ask && !window.confirm(ask)) return;
        event.currentTarget.disabled = true; // until the list is drawn again
        action(model.id);
      },
    });

  const buttons = {
    download: (model) => button(model, { text: "Download", kind: "button-secondary", action: models.download }),
    use: (model) => button(model, { text: "Use", kind: "button-primary", action: models.use }),
    delete: (model) =>
      button(model, {
        text: "Delete",
        kind: "button-ghost",
        action: models.remove,
        ask: `Delete ${model.name} from this computer? You can download it again later.`,
      }),
  };

  function progress({ percent, label }) {
    const bar = element("progress", { max: 100, value: percent, class: "model-progress", "aria-label": `Downloading: ${label}` });
    return element("div", { class: "model-download" }, bar, element("span", { class: "model-meta" }, label));
  }

  function row(model) {
    const shown = modelRow(model);
    return element(
      "li",
      { class: "model-row" },
      element(
        "div",
        { class: "model-info" },
        element("span", { class: "model-name", text: model.name }),
        shown.state ? element("span", { class: `model-state${model.active ? " active" : ""}`, text: shown.state }) : null,
        element("span", { class: "model-meta", text: shown.details }),
        shown.progress ? progress(shown.progress) : null,
        shown.error ? element("span", { class: "model-error", text: shown.error }) : null,
      ),
      element("div", { class: "model-actions" }, ...shown.actions.map((action) => buttons[action](model))),
    );
  }

  function render() {
    ui.modelsNotice.hidden = !models.notice;
    ui.modelsNotice.textContent = models.notice;
    ui.modelsList.replaceChildren(...models.models.map(row));
  }

  for (const opener of ui.modelsOpeners) {
    opener.addEventListener("click", () => {
      ui.modelsDialog.showModal();
      models.open();
    });
  }
  ui.modelsDialog.addEventListener("close", () => models.close());
  ui.modelsClose.addEventListener("click", () => ui.modelsDialog.close());
  ui.modelsLocal.addEventListener("submit", (event) => {
    event.preventDefault();
    const path = ui.modelsLocalPath.value.trim();
    if (path) models.useLocal(path);
  });
  // The desktop window can show the system's folder picker; a browser cannot hand a path to a page.
  const chooseFolder = window.pywebview?.api?.choose_model_folder;
  ui.modelsLocalBrowse.hidden = !chooseFolder;
  ui.modelsLocalBrowse.addEventListener("click", async () => {
    const chosen = await window.pywebview.api.choose_model_folder();
    if (chosen) ui.modelsLocalPath.value = chosen;
  });
  ui.modelsCustom.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = ui.modelsCustomId.value.trim();
    if (id) models.download(id);
  });

  return { render };
}
