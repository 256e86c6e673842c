// Building DOM nodes: the one helper every view module uses.

/**
 * element("button", {class: "button", text: "Use", onclick: fn, "aria-label": "Use Tiny"}, ...children)
 * `class` sets the class name, `text` the text, `on…` adds a listener, anything else is an attribute.
 */
export function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter(Boolean));
  return node;
}
