// The "This app" panel (a dialog): desktop.js's switches as checkboxes, each with what it does.

import { element } from "./dom.js";
import { comboFromKey, formatCombo, SWITCHES, switchState } from "./desktop.js";

/**
 * `desktop`: desktop.js's state; `ui`: elements.js (the dialog, its list and notice, the button
 * that opens it). Returns {render}: call it when `desktop` changed.
 */
export function createDesktopView({ desktop, ui }) {
  function row(spec) {
    const shown = switchState(spec, desktop.state.prefs, desktop.state.busy);
    const id = `desktop-${spec.name}`;
    const box = element("input", {
      type: "checkbox",
      id,
      "aria-describedby": `${id}-hint`,
      onchange: (event) => desktop.set(spec.name, event.currentTarget.checked),
    });
    box.checked = shown.checked;
    box.disabled = shown.disabled;
    return element(
      "li",
      { class: "desktop-switch" },
      box,
      element(
        "div",
        {},
        element("label", { for: id, text: spec.label }),
        element("p", { id: `${id}-hint`, class: "hint", text: shown.hint }),
      ),
    );
  }

  let capturing = false; // the shortcut button waits for the keys the person wants

  /** The dictation shortcut: its keys on a button; pressing it waits for the new keys. */
  function shortcutRow(prefs) {
    const hint =
      prefs.dictation_shortcut_note ||
      "Hold it in any app to dictate there and release to type, or tap it to start and tap again to finish. Esc cancels.";
    const button = element("button", {
      type: "button",
      id: "desktop-shortcut",
      class: "button button-secondary",
      "aria-describedby": "desktop-shortcut-hint",
      text: capturing ? "Press the keys you want…" : formatCombo(prefs.dictation_shortcut),
      onclick: () => {
        capturing = !capturing;
        render();
        if (capturing) document.querySelector("#desktop-shortcut")?.focus();
      },
      onkeydown: (event) => {
        if (!capturing) return;
        event.preventDefault();
        event.stopPropagation();
        if (event.key === "Escape" && !event.ctrlKey && !event.shiftKey && !event.altKey && !event.metaKey) {
          capturing = false;
          render();
          return;
        }
        const combo = comboFromKey(event);
        if (!combo) return;
        capturing = false;
        desktop.set("dictation_shortcut", combo);
      },
    });
    button.disabled = desktop.state.busy === "dictation_shortcut";
    return element(
      "li",
      { class: "desktop-switch desktop-shortcut" },
      element(
        "div",
        {},
        element("label", { for: "desktop-shortcut", text: "Dictation shortcut" }),
        element("p", { id: "desktop-shortcut-hint", class: "hint", text: hint }),
      ),
      button,
    );
  }

  function render() {
    const { available, prefs, notice } = desktop.state;
    ui.desktopOpen.hidden = !available;
    ui.desktopNotice.hidden = !notice;
    ui.desktopNotice.textContent = notice;
    ui.desktopList.replaceChildren(...(prefs ? [...SWITCHES.map(row), shortcutRow(prefs)] : []));
  }

  ui.desktopOpen.addEventListener("click", () => ui.desktopDialog.showModal());
  ui.desktopClose.addEventListener("click", () => ui.desktopDialog.close());
  return { render };
}
