// What the page says: status lines, progress texts, error titles and explanations.
// Pure functions of the state (no DOM), so the wording lives in one place.

import { formatBytes, formatClock, languageName } from "./format.js";

/** The model pill's label and the banner under the top bar, by model state ("down": no server). */
export function modelLabel(state, model) {
  const labels = {
    unknown: "Connecting…",
    loading: "Loading model…",
    ready: model.remote ? model.engine : `Ready · ${shortModelName(model.id)}`,
    missing: "No model",
    error: "Model failed to load",
    down: "Server unreachable",
  };
  return labels[state] || state;
}

function shortModelName(id) {
  const parts = String(id || "").split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] || "model";
}

/** [title, detail] of the banner, or null when there is nothing to say. */
export function modelBanner(state, model, desktop) {
  const waitHere = "You can still record: recordings wait here until a model is ready.";
  const banners = {
    loading: [
      "The speech model is loading.",
      `${model.detail} You can record already: Hush transcribes as soon as the model is ready.`,
    ],
    missing: ["No speech model is available.", `${model.detail} ${waitHere}`],
    error: ["The speech model could not be loaded.", `${model.detail} ${waitHere}`],
    down: [
      "Hush can't reach its server.",
      desktop
        ? "Restart Hush. Recordings you make now are kept on this page and sent when the server is back."
        : "Check that Hush is still running (the terminal where you started it). This page keeps trying.",
    ],
  };
  const banner = banners[state];
  return banner ? [banner[0], banner[1].trim()] : null;
}

/** The status line while the microphone is busy, or null when it is idle. */
export function captureStatus(phase) {
  const texts = {
    permission: "Waiting for permission to use the microphone…",
    recording: "Recording… press Stop when you're done.",
    stopping: "Finishing the recording…",
  };
  return texts[phase] || null;
}

export function idleStatus(model) {
  return model.state === "ready" || model.reachable === null
    ? "Ready to record"
    : "Ready to record. Transcription starts once the model is ready.";
}

const retryingSoon = (item, model, now) => item.retryAt > now && model.state === "ready";

/** The status line for the selected item. */
export function itemStatus(item, model, now = Date.now()) {
  const name = item.kind === "recording" ? "Recording" : `“${item.title}”`;
  switch (item.phase) {
    case "held":
      if (model.reachable === false) return `${name} kept. Waiting for the Hush server…`;
      if (retryingSoon(item, model, now)) {
        const seconds = Math.max(1, Math.ceil((item.retryAt - now) / 1000));
        return `The model isn't ready yet. Trying again in ${seconds} s…`;
      }
      return `${name} kept. It will be transcribed as soon as the speech model is ready.`;
    case "queued":
      return "Waiting for the previous transcription to finish…";
    case "uploading": // in steps of 10%, so screen readers are not flooded
      return `Uploading… ${Math.floor(item.progress * 10) * 10}%`;
    case "transcribing":
      return "Transcribing…";
    case "done": {
      const count = item.result.segments?.length || 0;
      const language = item.result.language ? `, ${languageName(item.result.language)}` : "";
      return count
        ? `Done: ${count} ${count === 1 ? "segment" : "segments"}${language}.`
        : "Done, but no speech was recognised.";
    }
    case "error":
      return `${errorNotice(item).title}.`;
    case "cancelled":
      return "Not transcribed. The audio is kept.";
    default:
      return "";
  }
}

/** The progress panel of a held, queued, uploading or transcribing item: {title, detail, cancel}. */
export function workingText(item, model, now = Date.now(), clock = performance.now()) {
  const down = model.reachable === false;
  const elapsed = item.workStarted ? ` · ${formatClock((clock - item.workStarted) / 1000)}` : "";
  const titles = {
    held: down
      ? "Waiting for the Hush server"
      : retryingSoon(item, model, now)
        ? "The model is almost ready"
        : "Waiting for the speech model",
    queued: "Queued",
    uploading: `Uploading ${Math.floor(item.progress * 100)}%`,
    transcribing: item.position
      ? "Queued on the server"
      : item.serverProgress
        ? `Transcribing ${Math.floor(item.serverProgress * 100)}%`
        : "Transcribing",
  };
  const details = {
    held: down
      ? "Hush can't reach its server right now. The audio is kept and sent as soon as the server answers."
      : `${item.note || model.detail || "The model is loading."} This will be transcribed automatically when the model is ready.`,
    queued: "Another transcription is running; this one starts right after it.",
    uploading: `Sending ${formatBytes(item.blob?.size || 0)} to the speech model on this computer.`,
    transcribing: item.position
      ? `${item.position} ${item.position === 1 ? "transcription is" : "transcriptions are"} ahead of this one.`
      : `Running the speech model on this computer${elapsed}. Long audio takes a while.`,
  };
  if (model.remote) {
    const where = model.engine.replace(/^Servers?: /, "");
    details.uploading = `Sending ${formatBytes(item.blob?.size || 0)} to Hush, which stores it here and sends it on to ${where}.`;
    if (!item.position) {
      details.transcribing = item.stage
        ? `${item.stage}${elapsed}`
        : `Transcribed by ${where}${elapsed}; long audio is shared out in pieces.`;
    }
  }
  const cancel = item.phase === "held" || item.phase === "queued" ? "Don't transcribe" : "Cancel";
  return { title: titles[item.phase], detail: details[item.phase], cancel };
}

const JOB_ENDS = {
  failed: "Transcription failed",
  cancelled: "Transcription cancelled",
  interrupted: "Hush stopped before this was transcribed",
};
const HTTP_TITLES = {
  409: "Transcription cancelled",
  413: "This file is too large",
  422: "Hush can't transcribe with these settings",
};

/** {title, text} of the notice for an item whose transcription failed (item.error, see queue.js). */
export function errorNotice(item, desktop = false) {
  const error = item.error || {};
  const what = item.kind === "recording" ? "recording" : "file";
  switch (error.kind) {
    case "network":
      return {
        title: "Hush can't reach its server",
        text: desktop
          ? `Restart Hush, then press Try again. Your ${what} is kept on this page.`
          : `Check that Hush is still running, then press Try again. Your ${what} is kept on this page.`,
      };
    case "too-large":
      return {
        title: HTTP_TITLES[413],
        text:
          `This file is ${formatBytes(error.size)}, over the ${formatBytes(error.limit)} limit. ` +
          "Split the recording, or raise HUSH_MAX_UPLOAD_MB.",
      };
    case "job": {
      const kept = item.kind === "stored" ? " The recording is kept." : "";
      return { title: JOB_ENDS[error.status] || "Not transcribed", text: `${error.detail}${kept}`.trim() };
    }
    case "http": {
      const unreadable = item.kind === "recording" ? "Hush couldn't read this recording" : "Hush couldn't read this file";
      const title = error.status === 400 ? unreadable : HTTP_TITLES[error.status] || "Transcription failed";
      return { title, text: error.detail };
    }
    default:
      return { title: "Transcription failed", text: error.detail || "" };
  }
}

export const CANCELLED_NOTICE = {
  title: "Not transcribed",
  text: "The audio is kept. Transcribe it whenever you like, with the current language and task.",
};

export const NOTHING_RECORDED = {
  title: "Nothing was recorded",
  text: "The microphone delivered no audio. Check the input in your system's sound settings and try again.",
};

/** The session list's badge per item phase. */
export const PHASE_BADGES = {
  held: "Waiting",
  queued: "Queued",
  uploading: "Uploading",
  transcribing: "Transcribing",
  done: "Done",
  error: "Failed",
  cancelled: "Not transcribed",
};

/** {title, text} explaining why the microphone could not be used (MicrophoneError.kind, recorder.js). */
export function microphoneProblem(error, desktop) {
  const problems = {
    denied: {
      title: "Hush isn't allowed to use the microphone",
      text: desktop
        ? "Your system's privacy settings block microphone access for Hush. On macOS: System Settings → Privacy & Security → Microphone, turn on Hush. On Windows: Settings → Privacy & security → Microphone, allow desktop apps. Then press Record again."
        : "Microphone permission was denied. Click the site settings icon at the left of the address bar, set Microphone to Allow, then press Record again. If your system blocks the browser, allow it in the system's privacy settings (Microphone).",
    },
    "not-found": {
      title: "No microphone found",
      text: "Connect a microphone, or switch it on in your system's sound settings, then press Record again.",
    },
    busy: {
      title: "The microphone is busy or blocked",
      text: "Another app may be using it, or the system stopped it. Close other apps that record audio and press Record again.",
    },
    "device-gone": {
      title: "The chosen microphone isn't connected",
      text: "Pick another microphone in the list and press Record again.",
    },
    unsupported: {
      title: "This browser can't record audio",
      text: "Use a current version of Chrome, Edge, Firefox or Safari, or the Hush desktop app.",
    },
    insecure: {
      title: "Recording needs a secure address",
      text: "Browsers only allow microphones on https or localhost pages. Open Hush at http://127.0.0.1 (the address it printed when it started).",
    },
  };
  const problem = problems[error?.kind] || {
    title: "The microphone could not be started",
    text: error?.message || String(error),
  };
  return { title: problem.title, text: `${problem.text} You can still import an audio or video file.` };
}
