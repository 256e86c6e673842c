// How the desktop app lives on this computer: in the applications menu, running on in the
// background (the tray) when the window closes, started at login. Only the window app has
// these (its /api/health says `desktop`; GET /api/desktop answers 404 on `python -m backend`):
// `available` says whether to offer them at all. No DOM: node tests drive it with a stubbed
// API; desktop-view.js is its panel.

/** The switches the panel shows, in order, with what each says. */
export const SWITCHES = [
  {
    name: "menu_entry",
    label: "Show Hush in the applications menu",
    hint: "Adds Hush and its icon to your desktop's menu, and lets the file manager open audio with it.",
    needsInstall: true,
  },
  {
    name: "keep_running",
    label: "Keep running in the background when the window is closed",
    hint: "Hush stays ready in the tray. Quit it from the tray's menu.",
    hintWithoutTray: "This desktop shows no tray: Hush runs on without a window; open Hush again to bring it back.",
  },
  {
    name: "start_at_login",
    label: "Start Hush when I log in",
    hint: "It starts hidden, in the tray, so that it is ready when you need it.",
    needsInstall: true,
  },
  {
    name: "dictation_paste",
    label: "Dictate by pasting instead of typing",
    hint: "Hush puts the text on the clipboard, presses Ctrl+V, then puts back what the clipboard held.",
  },
  {
    name: "dictation_trailing_space",
    label: "Add a space after dictated text",
    hint: "So that the next dictation does not run into the last one.",
  },
  {
    name: "dictation_keep_on_clipboard",
    label: "Also leave dictated text on the clipboard",
    hint: "To paste it again elsewhere.",
  },
];

/** What one switch shows: {checked, disabled, hint}. */
export function switchState(spec, prefs, busy) {
  const unsupported = spec.needsInstall && !prefs.can_install;
  const hint = unsupported
    ? "Only on Linux desktops: on Windows and macOS the app carries its icon itself."
    : !prefs.tray && spec.hintWithoutTray
      ? spec.hintWithoutTray
      : spec.hint;
  return { checked: Boolean(prefs[spec.name]), disabled: unsupported || busy === spec.name, hint };
}

/**
 * `api`: the functions of api.js this needs (getDesktop, changeDesktop). `events`: changed().
 * Returns {state, load, set}: `state` is {available, prefs, busy, notice}.
 */
export function createDesktop({ api, events = {} }) {
  const state = { available: false, prefs: null, busy: "", notice: "" };
  const changed = () => events.changed?.();
  let asked = false;

  /** Ask the server once (health said the window app is there); a 404 means nothing to offer. */
  async function load() {
    if (asked) return;
    asked = true;
    try {
      state.prefs = await api.getDesktop();
      state.available = true;
    } catch (error) {
      state.available = false;
      if (error.status !== 404) state.notice = error.detail || error.message;
    }
    changed();
  }

  /** Switch one preference; the server's answer is the truth shown afterwards. */
  async function set(name, value) {
    if (!state.available || state.busy) return;
    state.busy = name;
    state.notice = "";
    changed();
    try {
      state.prefs = await api.changeDesktop({ [name]: value });
    } catch (error) {
      state.notice = error.detail || error.message;
    } finally {
      state.busy = "";
      changed();
    }
  }

  return { state, load, set };
}

const MODIFIER_KEYS = ["Control", "Shift", "Alt", "Meta", "AltGraph", "OS"];
const KEY_NAMES = { " ": "space", Escape: "esc", Enter: "return", Tab: "tab" };

/**
 * The shortcut a key press makes, as the server names it ("ctrl+shift+space"), or null while only
 * modifiers are down or without any (a plain key would start a dictation at every press).
 * `event`: a KeyboardEvent's {key, code, ctrlKey, shiftKey, altKey, metaKey}.
 */
export function comboFromKey(event) {
  if (MODIFIER_KEYS.includes(event.key)) return null;
  const modifiers = [
    event.ctrlKey && "ctrl",
    event.shiftKey && "shift",
    event.altKey && "alt",
    event.metaKey && "super",
  ].filter(Boolean);
  if (!modifiers.length) return null;
  // The physical key (code) for letters and digits: Shift or Alt change what `key` says.
  const letter = /^Key([A-Z])$/.exec(event.code || "") || /^Digit([0-9])$/.exec(event.code || "");
  const key = letter ? letter[1].toLowerCase() : KEY_NAMES[event.key] || event.key.toLowerCase();
  return [...modifiers, key].join("+");
}

/** "ctrl+shift+space" → "Ctrl+Shift+Space", as people read shortcuts. */
export function formatCombo(combo) {
  return (combo || "")
    .split("+")
    .map((part) => (part === "esc" ? "Esc" : part.charAt(0).toUpperCase() + part.slice(1)))
    .join("+");
}
