// The window app's preferences (ui/desktop.js) against a fake server: run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ApiError } from "../../ui/api.js";
import { createDesktop, SWITCHES, switchState } from "../../ui/desktop.js";

const PREFS = { menu_entry: false, keep_running: false, start_at_login: false, tray: true, can_install: true };

function fakeServer(prefs = PREFS) {
  const server = { prefs: { ...prefs }, changes: [], failWith: null, missing: false };
  server.api = {
    getDesktop: async () => {
      if (server.missing) throw new ApiError("http", "no window", { status: 404, detail: "no window" });
      return { ...server.prefs };
    },
    changeDesktop: async (change) => {
      server.changes.push(change);
      if (server.failWith) throw server.failWith;
      Object.assign(server.prefs, change);
      return { ...server.prefs };
    },
  };
  return server;
}

describe("desktop preferences", () => {
  test("a server without a window offers nothing and says nothing", async () => {
    const server = fakeServer();
    server.missing = true;
    const desktop = createDesktop({ api: server.api });
    await desktop.load();
    assert.equal(desktop.state.available, false);
    assert.equal(desktop.state.notice, "");
    await desktop.set("keep_running", true);
    assert.deepEqual(server.changes, []);
  });

  test("switching one sends only it and shows the server's answer", async () => {
    const server = fakeServer();
    let renders = 0;
    const desktop = createDesktop({ api: server.api, events: { changed: () => renders++ } });
    await desktop.load();
    assert.equal(desktop.state.available, true);
    await desktop.set("menu_entry", true);
    assert.deepEqual(server.changes, [{ menu_entry: true }]);
    assert.equal(desktop.state.prefs.menu_entry, true);
    assert.equal(desktop.state.busy, "");
    assert.ok(renders >= 3);
  });

  test("a failed change keeps the old state and shows the server's sentence", async () => {
    const server = fakeServer();
    server.failWith = new ApiError("http", "x", { status: 500, detail: "Hush could not write /x: Permission denied." });
    const desktop = createDesktop({ api: server.api });
    await desktop.load();
    await desktop.set("start_at_login", true);
    assert.equal(desktop.state.prefs.start_at_login, false);
    assert.equal(desktop.state.notice, "Hush could not write /x: Permission denied.");
  });

  test("menu and login switches are off-limits where desktop entries do not exist", () => {
    const prefs = { ...PREFS, can_install: false };
    const [menu, background, login] = SWITCHES.map((spec) => switchState(spec, prefs, ""));
    assert.equal(menu.disabled, true);
    assert.equal(login.disabled, true);
    assert.equal(background.disabled, false);
    assert.match(menu.hint, /Only on Linux/);
  });

  test("without a tray the background switch says how to get the window back", () => {
    const spec = SWITCHES.find((s) => s.name === "keep_running");
    assert.match(switchState(spec, { ...PREFS, tray: false }, "").hint, /open Hush again/);
    assert.match(switchState(spec, PREFS, "").hint, /tray/);
  });
});

describe("the dictation shortcut from a key press", async () => {
  const { comboFromKey, formatCombo } = await import("../../ui/desktop.js");
  const press = (key, code, mods = {}) => ({ key, code, ctrlKey: false, shiftKey: false, altKey: false, metaKey: false, ...mods });

  test("modifiers in a fixed order, then the physical key", () => {
    assert.equal(comboFromKey(press(" ", "Space", { ctrlKey: true, shiftKey: true })), "ctrl+shift+space");
    assert.equal(comboFromKey(press("∂", "KeyD", { altKey: true, ctrlKey: true })), "ctrl+alt+d");
    assert.equal(comboFromKey(press("!", "Digit1", { shiftKey: true, metaKey: true })), "shift+super+1");
    assert.equal(comboFromKey(press("F9", "F9", { ctrlKey: true })), "ctrl+f9");
  });

  test("only modifiers so far, or no modifier at all, is not a shortcut yet", () => {
    assert.equal(comboFromKey(press("Control", "ControlLeft", { ctrlKey: true })), null);
    assert.equal(comboFromKey(press("d", "KeyD")), null);
  });

  test("shown as people read shortcuts", () => {
    assert.equal(formatCombo("ctrl+shift+space"), "Ctrl+Shift+Space");
    assert.equal(formatCombo("ctrl+alt+d"), "Ctrl+Alt+D");
  });
});
