// Keyboard: Space or R starts and stops recording, unless the key means something where it is pressed.

function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") return !["button", "checkbox", "radio", "range", "submit", "reset", "file"].includes(target.type);
  return false;
}

/** Space has its own meaning on buttons, links, media and lists: leave it to them. */
function spaceBelongsTo(target) {
  return target instanceof Element && Boolean(target.closest("button, a[href], audio, video, summary, [role=button], input, select, textarea"));
}

/** Listens from now on; there is nothing to call. */
export function createShortcuts({ onToggleRecording }) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    const isSpace = event.code === "Space" || event.key === " ";
    const isR = event.key === "r" || event.key === "R";
    if (!isSpace && !isR) return;
    if (isSpace && spaceBelongsTo(event.target)) return;
    event.preventDefault();
    onToggleRecording();
  });
}
