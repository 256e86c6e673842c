// What differs between a browser tab and the desktop window: remembered settings,
// saving files, the clipboard.

import { element } from "./dom.js";

/** localStorage keys of the choices the page remembers. */
export const KEYS = {
  microphone: "hush.microphone",
  language: "hush.language",
  task: "hush.task",
  view: "hush.view",
  speakers: "hush.speakers",
};

export const settings = {
  get(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch {
      // private mode: settings just aren't remembered
    }
  },
};

export const inDesktopApp = () => Boolean(window.pywebview) || /QtWebEngine/i.test(navigator.userAgent);

/** The desktop shell's save dialog, when it offers one (pywebview js_api: save_file(name, base64) → path | null). */
export function desktopSaver() {
  const save = window.pywebview?.api?.save_file;
  return typeof save === "function" ? save : null;
}

function toBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** Save ``blob`` as ``filename``: the desktop app's dialog, or the browser's download. Returns false if cancelled. */
export async function saveBlob(blob, filename) {
  const save = desktopSaver();
  if (save) return Boolean(await save(filename, await toBase64(blob)));
  const url = URL.createObjectURL(blob);
  const link = element("a", { href: url, download: filename, hidden: "" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return true;
}

export async function copyToClipboard(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API unavailable or refused (some embedded web views): the old way.
  }
  const area = element("textarea", { readonly: "", style: "position:fixed;opacity:0;top:0;left:0" });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
