// The live transcript panel: confirmed words as they settle, the tentative tail set apart.

import { liveText } from "./live.js";

const STATUS = { connecting: "Connecting…", live: "Listening", paused: "Paused", off: "" };

/** `ui`: elements.js (the panel: `live`, `liveConfirmed`, `liveTentative`, `liveState`, `liveEmpty`). Returns {render}. */
export function createLiveView({ ui }) {
  /** Show live.js's `state` in the panel, or hide the panel. */
  function render(state, visible) {
    ui.live.hidden = !visible;
    if (!visible) return;
    const { confirmed, tentative } = liveText(state);
    if (ui.liveConfirmed.textContent !== confirmed) ui.liveConfirmed.textContent = confirmed;
    const tail = tentative && confirmed ? ` ${tentative}` : tentative;
    if (ui.liveTentative.textContent !== tail) ui.liveTentative.textContent = tail;
    ui.live.dataset.status = state.status;
    ui.liveState.textContent = state.status === "paused" ? state.detail || STATUS.paused : STATUS[state.status];
    ui.liveEmpty.hidden = Boolean(confirmed || tentative);
  }

  return { render };
}
