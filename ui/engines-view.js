// The engines part of the models panel: this computer or servers, each server's address, key,
// model and how many requests it takes at once, its Test button and what the test found.

import { element } from "./dom.js";

/**
 * `engines`: engines.js's state; `ui`: elements.js (the section's radios, list, buttons and notes,
 * and the models parts that are hidden while servers do the work). Returns {render}.
 */
export function createEnginesView({ engines, ui }) {
  let rows = 0; // ids for labels, unique per drawing

  function field(label, input) {
    const id = `engine-field-${rows}-${label.toLowerCase().replace(/\W+/g, "-")}`;
    input.id = id;
    return element("div", { class: "engine-field" }, element("label", { for: id, text: label }), input);
  }

  function serverRow(server, index) {
    rows += 1;
    const locked = engines.fixed ? { disabled: "" } : {};
    const input = (name, props, read = (node) => node.value) =>
      element("input", {
        autocomplete: "off",
        spellcheck: "false",
        ...props,
        ...locked,
        [name === "allow_unencrypted" ? "onchange" : "oninput"]: (event) => engines.edit(index, name, read(event.currentTarget)),
      });
    const url = input("url", { type: "url", value: server.url, placeholder: "http://gpu-box:8000/v1" });
    const key = input("key", { type: "password", value: server.key, placeholder: server.has_key ? "Stored (type to replace)" : "None" });
    const model = input("model", { type: "text", value: server.model });
    const concurrency = input("concurrency", { type: "number", min: "1", max: "32", value: String(server.concurrency) });
    const plain = input("allow_unencrypted", { type: "checkbox" }, (node) => node.checked);
    plain.checked = server.allow_unencrypted;
    const test = engines.testOf(index);
    const name = server.url || `server ${index + 1}`;
    const testButton = element("button", {
      type: "button",
      class: "button button-secondary",
      text: "Test",
      "aria-label": `Test ${name}`,
      onclick: () => engines.test(index),
    });
    testButton.disabled = test?.state === "testing";
    const removeButton = engines.fixed
      ? null
      : element("button", {
          type: "button",
          class: "button button-ghost",
          text: "Remove",
          "aria-label": `Remove ${name}`,
          onclick: () => engines.remove(index),
        });
    return element(
      "li",
      { class: "engine-server" },
      element(
        "div",
        { class: "engine-fields" },
        field("Base URL", url),
        field("API key", key),
        field("Model", model),
        field("At once", concurrency),
      ),
      element("label", { class: "engine-check" }, plain, " Allow unencrypted http (only on a network you trust)"),
      element("div", { class: "engine-actions" }, testButton, removeButton),
      test ? element("p", { class: "engine-test", role: "status", "data-state": test.state, text: test.text }) : null,
    );
  }

  function render() {
    const servers = engines.kind === "servers";
    for (const radio of ui.engineKinds) {
      radio.checked = radio.value === engines.kind;
      radio.disabled = engines.fixed;
    }
    ui.enginesPrivacy.hidden = !servers;
    ui.enginesServers.hidden = !servers;
    ui.enginesAdd.hidden = !servers || engines.fixed;
    ui.enginesSave.hidden = engines.fixed;
    ui.enginesSave.disabled = engines.saving;
    ui.enginesFixed.hidden = !engines.fixed;
    ui.enginesServers.replaceChildren(...engines.servers.map(serverRow));
    ui.enginesNotice.hidden = !engines.notice;
    ui.enginesNotice.textContent = engines.notice;
    const live = engines.info;
    ui.enginesLive.hidden = !live || live.live || live.kind !== "servers";
    ui.enginesLive.textContent = live?.live_detail || "";
    const remote = live?.kind === "servers";
    for (const part of ui.localModelParts) part.hidden = remote;
    ui.enginesLocalOff.hidden = !remote;
  }

  for (const radio of ui.engineKinds) radio.addEventListener("change", () => engines.choose(radio.value));
  ui.enginesAdd.addEventListener("click", () => engines.add());
  ui.enginesSave.addEventListener("click", () => engines.save());

  return { render };
}
