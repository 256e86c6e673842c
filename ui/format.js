// Numbers, names and dates as people read them. No DOM: node tests import this too.

/** 75.4 → "1:15"; with `tenths` → "1:15.4"; hours when needed. */
export function formatClock(seconds, { tenths = false } = {}) {
  const safe = Math.max(0, Number.isFinite(seconds) ? seconds : 0);
  const whole = tenths ? Math.floor(safe * 10) / 10 : Math.floor(safe);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const sec = tenths ? s.toFixed(1).padStart(4, "0") : String(Math.floor(s)).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

const UNITS = ["bytes", "KB", "MB", "GB", "TB"];

/**
 * 900 → "900 bytes", 1536 → "1.5 KB", 2**20 → "1 MB", 5e8 → "477 MB".
 * Units of 1024, like HUSH_MAX_UPLOAD_MB; one decimal below 100 of a unit.
 */
export function formatBytes(bytes) {
  let value = Math.max(0, Number(bytes) || 0);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${Number(value.toFixed(digits))} ${UNITS[unit]}`;
}

const locale = () => globalThis.navigator?.language || "en";

let displayNames = null;
try {
  displayNames = new Intl.DisplayNames([locale(), "en"], { type: "language" });
} catch {
  displayNames = null;
}

/** "de" → "German" (in the reader's language); the code itself when the browser has no name. */
export function languageName(code) {
  if (!code) return "";
  try {
    const name = displayNames?.of(code);
    if (name && name.toLowerCase() !== code.toLowerCase()) return name.charAt(0).toUpperCase() + name.slice(1);
  } catch {
    // not a code Intl knows (e.g. Whisper's "jw" or "haw" on old browsers)
  }
  return code;
}

/** Language codes sorted by their shown names. */
export function sortedLanguages(codes) {
  const collator = new Intl.Collator(locale());
  return codes
    .map((code) => ({ code, name: languageName(code) }))
    .sort((a, b) => collator.compare(a.name, b.name));
}

/** A local date as "2025-03-09-1405", for file names. */
export function stamp(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}`;
}

/** "memo.final.wav" → {stem: "memo.final", extension: "wav"}; a name without a dot has no extension. */
export function splitName(name) {
  const dot = name.lastIndexOf(".");
  return {
    stem: (dot > 0 ? name.slice(0, dot) : name) || "transcript",
    extension: dot > 0 ? name.slice(dot + 1) : "",
  };
}
