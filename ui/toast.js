// Messages in passing: the toast at the bottom of the page, for a few seconds.

/** `node`: the toast element; `ms`: how long a message stays. Returns {show(message)}. */
export function createToast({ node, ms = 3500 }) {
  let timer = 0;

  function show(message) {
    node.textContent = message;
    node.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(() => {
      node.hidden = true;
    }, ms);
  }

  return { show };
}
