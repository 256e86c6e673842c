// The dictation indicator's page (indicator.html), in a small window of its own that never takes the
// keyboard focus. The window app (desktop/indicator.py) drives it: window.hushIndicator.show(message)
// and .hide(); .state() tells it what is on screen. The × asks the app to cancel the dictation.

import { createIndicatorState } from "./indicator-state.js";
import { createMeter } from "./meter.js";

const meterElement = document.querySelector(".indicator-meter");
const textElement = document.getElementById("text");
const hintElement = document.getElementById("hint");
const cancelButton = document.getElementById("cancel");
const meter = createMeter({ meter: meterElement, canvas: meterElement.querySelector("canvas") });
const model = createIndicatorState();
let shown = { text: null, level: null };

function show(message) {
  const view = model.show(message);
  textElement.textContent = view.text;
  hintElement.textContent = view.hint ?? "";
  hintElement.hidden = !view.hint;
  meterElement.hidden = view.level === null;
  cancelButton.hidden = !view.cancellable;
  if (view.restartMeter) meter.reset();
  if (view.level !== null) meter.push(view.level);
  shown = { text: view.text, level: view.level };
}

function hide() {
  model.hide();
  shown = { text: null, level: null };
}

cancelButton.addEventListener("click", () => window.pywebview?.api?.cancel());

window.hushIndicator = { show, hide, state: () => shown };
