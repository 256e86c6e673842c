// Correcting one segment's text in place: a text box over the segment, Enter saves, Escape
// cancels, leaving it saves what was typed. Only the keys and the box are here; what an
// edit amounts to is words.js's editOutcome, and saving is the caller's.

import { editOutcome } from "./words.js";

/**
 * Replace `host`'s content with a text box holding `text`, focused with the caret at the
 * end. `done(outcome)` is called once, with {save: text} or {cancel: true} and `keyboard`
 * (closed by Enter or Escape, not by leaving the box); the caller then draws `host` again.
 * `label` names the box for screen readers.
 */
export function openEditor(host, text, { label, done }) {
  const box = document.createElement("textarea");
  box.className = "segment-editor";
  box.value = text;
  box.rows = 1;
  box.spellcheck = true;
  box.setAttribute("aria-label", label);
  box.setAttribute("aria-describedby", "edit-hint");
  let closed = false;

  const close = (outcome, keyboard) => {
    if (closed) return;
    closed = true;
    done({ ...outcome, keyboard });
  };
  const fit = () => {
    box.style.height = "auto";
    box.style.height = `${box.scrollHeight}px`;
  };

  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      close(editOutcome(text, box.value), true);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close({ cancel: true }, true);
    }
  });
  box.addEventListener("input", fit);
  box.addEventListener("blur", () => close(editOutcome(text, box.value), false));

  host.replaceChildren(box);
  box.focus();
  box.setSelectionRange(text.length, text.length);
  fit();
  return box;
}
