// The "This app" panel (a dialog): desktop.js's switches as checkboxes, each with what it does.

import { element } from "./dom.js";
import { SWITCHES, switchState } from "./desktop.js";

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

  function render() {
    const { available, prefs, notice } = desktop.state;
    ui.desktopOpen.hidden = !available;
    ui.desktopNotice.hidden = !notice;
    ui.desktopNotice.textContent = notice;
    ui.desktopList.replaceChildren(...(prefs ? SWITCHES.map(row) : []));
  }

  ui.desktopOpen.addEventListener("click", () => ui.desktopDialog.showModal());
  ui.desktopClose.addEventListener("click", () => ui.desktopDialog.close());
  return { render };
}
