// Building DOM nodes: the helpers every view module uses.

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

/** Fill a notice box (.notice): an icon, a title, optional text and detail, and buttons {label, handler, secondary}. */
export function showNotice(container, { tone = "error", title, text, detail, actions = [] }) {
  container.dataset.tone = tone;
  const body = element("div", { class: "notice-body" }, element("p", { class: "notice-title", text: title }));
  if (text) body.append(element("p", { class: "notice-text", text }));
  if (detail) body.append(element("p", { class: "notice-detail", text: detail }));
  const buttons = actions.map(({ label, handler, secondary }) =>
    element("button", {
      type: "button",
      class: `button ${secondary ? "button-ghost" : "button-primary"}`,
      text: label,
      onclick: handler,
    }),
  );
  const icon = element("span", { class: "notice-icon", "aria-hidden": "true" });
  container.replaceChildren(icon, body, ...(buttons.length ? [element("div", { class: "notice-actions" }, ...buttons)] : []));
  container.hidden = false;
}

export function hideNotice(container) {
  container.hidden = true;
  container.replaceChildren();
}
