// Hush's recorder page: wires the recorder, the API and the transcript view together.
//
// Two independent state machines:
//   capture: idle → permission → recording → stopping → idle   (the microphone)
//   item:    held → queued → uploading → transcribing → done     (each recording or file)
//            with error / cancelled as ends that keep the audio and offer "Try again".
// An item is held while the model is not ready (or the server answered 503) and sent
// automatically once /api/health says the model is ready. The server stores every
// upload: the history panel (history.js) lists them, and opening one makes it a "stored"
// item here, whose audio and transcript come from the server instead of this page.

import {
  audioUrl,
  cancelTranscription,
  exportTranscript,
  getHealth,
  getTranscription,
  retryTranscription,
  transcribe,
} from "./api.js";
import { element } from "./dom.js";
import { initHistory } from "./history.js";
import { initModels } from "./models.js";
import { listMicrophones, microphonePermission, Recorder, recordingSupported } from "./recorder.js";
import {
  formatBytes,
  formatClock,
  languageName,
  loadPlayer,
  sortedLanguages,
  TranscriptView,
} from "./transcript.js";

const $ = (id) => document.getElementById(id);

const ui = {
  modelPill: $("model-pill"),
  modelPillLabel: $("model-pill-label"),
  banner: $("model-banner"),
  bannerTitle: $("model-banner-title"),
  bannerDetail: $("model-banner-detail"),
  record: $("record"),
  recordLabel: $("record-label"),
  timer: $("timer"),
  level: $("level"),
  levelCanvas: $("level-canvas"),
  status: $("status"),
  statusIcon: $("status-icon"),
  progress: $("progress"),
  captureNotice: $("capture-notice"),
  microphone: $("microphone"),
  language: $("language"),
  task: $("task"),
  importButton: $("import"),
  fileInput: $("file-input"),
  result: $("result"),
  empty: $("empty"),
  item: $("item"),
  itemTitle: $("result-title"),
  itemMeta: $("item-meta"),
  downloadAudio: $("download-audio"),
  downloadAudioLabel: $("download-audio-label"),
  player: $("player"),
  itemNotice: $("item-notice"),
  working: $("working"),
  workingTitle: $("working-title"),
  workingDetail: $("working-detail"),
  cancel: $("cancel"),
  viewToggle: $("view-toggle"),
  downloadMenu: $("download-menu"),
  downloadAudioExt: $("download-audio-ext"),
  viewSegments: $("view-segments"),
  viewText: $("view-text"),
  copy: $("copy"),
  copyLabel: $("copy-label"),
  transcript: $("transcript"),
  session: $("session"),
  sessionList: $("session-list"),
  version: $("version"),
  history: $("history"),
  historyList: $("history-list"),
  historySearch: $("history-search"),
  historyEmpty: $("history-empty"),
  toast: $("toast"),
  dropOverlay: $("drop-overlay"),
};

const KEYS = { microphone: "hush.microphone", language: "hush.language", task: "hush.task", view: "hush.view" };
const store = {
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

const inDesktopApp = () => Boolean(window.pywebview) || /QtWebEngine/i.test(navigator.userAgent);

// -- state -----------------------------------------------------------------------------------
const model = { reachable: null, state: "unknown", detail: "", id: "", languages: [], version: "", maxUploadBytes: 0 };
const capture = { phase: "idle", startedAt: 0, levels: [] };
const items = [];
let selected = null;
let active = null;
let recorder = null;
let nextItemId = 1;

const view = new TranscriptView(ui.transcript, ui.player);
const history = initHistory({
  panel: ui.history,
  list: ui.historyList,
  search: ui.historySearch,
  empty: ui.historyEmpty,
  onOpen: openStored,
  onDeleted: onJobDeleted,
  onChanged: onJobChanged,
  onListed: followUploads,
  onError: (error) => toast(error.detail || error.message),
});

// -- small helpers ----------------------------------------------------------------------------
let toastTimer = 0;
function toast(message) {
  ui.toast.textContent = message;
  ui.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    ui.toast.hidden = true;
  }, 3500);
}

/** The desktop shell's save dialog, when it offers one (pywebview js_api: save_file(name, base64) → path | null). */
function desktopSaver() {
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
async function saveBlob(blob, filename) {
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

async function copyToClipboard(text) {
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
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

function currentOptions() {
  return { language: ui.language.value, task: ui.task.value };
}

function stamp(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}`;
}

// -- model state (GET /api/health) ----------------------------------------------------------
let healthTimer = 0;
let healthInFlight = null;

async function pollHealth() {
  if (healthInFlight) return healthInFlight;
  clearTimeout(healthTimer);
  healthInFlight = (async () => {
    try {
      const health = await getHealth();
      model.reachable = true;
      model.state = health.model?.state || "unknown";
      model.detail = health.model?.detail || "";
      model.id = health.model?.id || "";
      model.version = health.version || "";
      model.maxUploadBytes = health.max_upload_bytes || 0;
      const languages = health.model?.languages || [];
      if (languages.join() !== model.languages.join()) {
        model.languages = languages;
        fillLanguages();
      }
    } catch {
      model.reachable = false;
    }
    renderModel();
    pump();
    const delay = model.reachable === false ? 3000 : model.state === "ready" ? 15000 : 2000;
    healthTimer = setTimeout(pollHealth, delay);
  })();
  try {
    await healthInFlight;
  } finally {
    healthInFlight = null;
  }
}

function shortModelName(id) {
  const parts = String(id || "").split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] || "model";
}

function renderModel() {
  let state = model.state;
  if (model.reachable === false) state = "down";
  else if (model.reachable === null) state = "unknown";
  ui.modelPill.dataset.state = state;
  ui.banner.dataset.state = state;
  ui.version.textContent = model.version ? model.version : "";

  const labels = {
    unknown: "Connecting…",
    loading: "Loading model…",
    ready: `Ready · ${shortModelName(model.id)}`,
    missing: "No model",
    error: "Model failed to load",
    down: "Server unreachable",
  };
  ui.modelPillLabel.textContent = labels[state] || state;
  ui.modelPill.title = model.id ? `Speech model: ${model.id}` : "Speech model";

  const banners = {
    loading: [
      "The speech model is loading.",
      `${model.detail} You can record already: Hush transcribes as soon as the model is ready.`,
    ],
    missing: [
      "No speech model is available.",
      `${model.detail} You can still record: recordings wait here until a model is ready.`,
    ],
    error: [
      "The speech model could not be loaded.",
      `${model.detail} You can still record: recordings wait here until a model is ready.`,
    ],
    down: [
      "Hush can't reach its server.",
      inDesktopApp()
        ? "Restart Hush. Recordings you make now are kept on this page and sent when the server is back."
        : "Check that Hush is still running (the terminal where you started it). This page keeps trying.",
    ],
  };
  const banner = banners[state];
  ui.banner.hidden = !banner;
  $("model-banner-choose").hidden = !(state === "missing" || state === "error");
  if (banner) {
    ui.bannerTitle.textContent = banner[0];
    ui.bannerDetail.textContent = banner[1].trim();
  }
  render();
}

function fillLanguages() {
  const wanted = ui.language.value || store.get(KEYS.language) || "";
  const options = [element("option", { value: "", text: "Auto-detect" })];
  for (const { code, name } of sortedLanguages(model.languages)) {
    options.push(element("option", { value: code, text: name === code ? code : `${name}` }));
  }
  ui.language.replaceChildren(...options);
  ui.language.value = model.languages.includes(wanted) ? wanted : "";

  // English-only checkpoints cannot translate.
  const translate = ui.task.querySelector('option[value="translate"]');
  const englishOnly = model.languages.length === 1 && model.languages[0] === "en";
  translate.disabled = englishOnly;
  translate.textContent = englishOnly ? "Translate to English (needs a multilingual model)" : "Translate to English";
  if (englishOnly && ui.task.value === "translate") ui.task.value = "transcribe";
}

// -- microphone picker ----------------------------------------------------------------------
async function refreshMicrophones() {
  let devices = [];
  try {
    devices = await listMicrophones();
  } catch {
    devices = [];
  }
  const wanted = store.get(KEYS.microphone) || "";
  const options = [element("option", { value: "", text: "Default microphone" })];
  for (const device of devices) {
    if (device.id === "default") continue; // Chromium's alias of the system default
    options.push(element("option", { value: device.id, text: device.label }));
  }
  ui.microphone.replaceChildren(...options);
  ui.microphone.value = devices.some((d) => d.id === wanted) ? wanted : "";
}

// -- level meter ------------------------------------------------------------------------------
const LEVEL_HISTORY = 200;
let meterColors = null;
let lastMeterAria = 0;

function drawLevels() {
  const canvas = ui.levelCanvas;
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (!width || !height) return;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  if (!meterColors) {
    const style = getComputedStyle(ui.level);
    meterColors = { on: style.getPropertyValue("--meter-on").trim(), off: style.getPropertyValue("--meter-off").trim() };
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const gap = 3;
  const barWidth = 4;
  const bars = Math.max(8, Math.floor((width + gap) / (barWidth + gap)));
  const levels = capture.levels;
  for (let i = 0; i < bars; i++) {
    const level = levels[levels.length - bars + i] ?? 0;
    const barHeight = Math.max(3, level * height);
    ctx.fillStyle = level > 0.02 ? meterColors.on : meterColors.off;
    const x = i * (barWidth + gap);
    const y = (height - barHeight) / 2;
    ctx.beginPath();
    if (ctx.roundRect) ctx.roundRect(x, y, barWidth, barHeight, Math.min(barWidth / 2, 2));
    else ctx.rect(x, y, barWidth, barHeight);
    ctx.fill();
  }
}

let levelPeak = 0;
let levelPushed = 0;

/** Called every animation frame; one bar per 60 ms keeps the meter readable. */
function onLevel(level) {
  const now = performance.now();
  levelPeak = Math.max(levelPeak, level);
  if (now - levelPushed < 60 && level > 0) return;
  levelPushed = now;
  capture.levels.push(levelPeak);
  levelPeak = 0;
  if (capture.levels.length > LEVEL_HISTORY * 2) capture.levels.splice(0, capture.levels.length - LEVEL_HISTORY);
  drawLevels();
  if (now - lastMeterAria > 500) {
    lastMeterAria = now;
    ui.level.setAttribute("aria-valuenow", String(Math.round(level * 100)));
  }
}

// -- recording ---------------------------------------------------------------------------------
let timerInterval = 0;

function tickTimer() {
  if (recorder && capture.phase === "recording") ui.timer.textContent = formatClock(recorder.elapsed);
}

async function toggleRecording() {
  if (capture.phase === "recording") return stopRecording();
  if (capture.phase === "idle") return startRecording();
  return undefined; // asking for permission or finishing: ignore extra presses
}

async function startRecording() {
  hideCaptureNotice();
  capture.phase = "permission";
  capture.levels = [];
  ui.timer.textContent = formatClock(0);
  render();

  recorder = new Recorder({ onLevel, onEnded: onMicrophoneEnded });
  const wanted = ui.microphone.value;
  try {
    let used;
    try {
      used = await recorder.open(wanted);
    } catch (error) {
      if (error.kind !== "device-gone" || !wanted) throw error;
      used = await recorder.open("");
      toast("The chosen microphone isn't connected, so Hush uses the default one.");
    }
    await refreshMicrophones();
    if (used && [...ui.microphone.options].some((o) => o.value === used)) ui.microphone.value = used;
    if (capture.phase !== "permission") {
      recorder.cancel(); // the page moved on while the permission prompt was open
      return;
    }
    await recorder.start();
  } catch (error) {
    recorder?.cancel();
    recorder = null;
    capture.phase = "idle";
    showMicrophoneProblem(error);
    render();
    return;
  }
  capture.phase = "recording";
  capture.startedAt = Date.now();
  clearInterval(timerInterval);
  timerInterval = setInterval(tickTimer, 200);
  render();
}

async function stopRecording() {
  if (!recorder || capture.phase !== "recording") return;
  capture.phase = "stopping";
  clearInterval(timerInterval);
  render();
  const startedAt = new Date(capture.startedAt);
  const recorded = await recorder.stop();
  recorder = null;
  capture.phase = "idle";
  if (!recorded || recorded.blob.size === 0) {
    showNotice(ui.captureNotice, {
      tone: "error",
      title: "Nothing was recorded",
      text: "The microphone delivered no audio. Check the input in your system's sound settings and try again.",
    });
    render();
    return;
  }
  ui.timer.textContent = formatClock(recorded.seconds);
  addItem({
    kind: "recording",
    blob: recorded.blob,
    title: `Recording at ${startedAt.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`,
    uploadName: `recording.${recorded.extension}`,
    stem: `hush-recording-${stamp(startedAt)}`,
    extension: recorded.extension,
    seconds: recorded.seconds,
  });
}

function onMicrophoneEnded() {
  if (capture.phase !== "recording") return;
  toast("The microphone was disconnected. What was recorded so far is kept.");
  stopRecording();
}

function hideCaptureNotice() {
  ui.captureNotice.hidden = true;
  ui.captureNotice.replaceChildren();
}

function showMicrophoneProblem(error) {
  const desktop = inDesktopApp();
  const importHint = "You can still import an audio or video file.";
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
  showNotice(ui.captureNotice, {
    tone: "error",
    title: problem.title,
    text: `${problem.text} ${importHint}`,
    actions: [{ label: "Dismiss", handler: hideCaptureNotice, secondary: true }],
  });
}

// -- items: the queue of recordings and files to transcribe ----------------------------------
function addItem(fields) {
  const item = {
    id: nextItemId++,
    phase: "held",
    progress: 0,
    result: null,
    error: null,
    note: "",
    retryAt: 0,
    options: currentOptions(),
    url: URL.createObjectURL(fields.blob),
    created: Date.now(),
    ...fields,
  };
  items.push(item);
  select(item);
  pump();
  return item;
}

function addFiles(files) {
  const list = [...files].filter((f) => f && f.size !== undefined);
  if (list.length === 0) return;
  let first = null;
  for (const file of list) {
    const dot = file.name.lastIndexOf(".");
    const item = addItem({
      kind: "file",
      blob: file,
      title: file.name || "Imported file",
      uploadName: file.name || "upload",
      stem: (dot > 0 ? file.name.slice(0, dot) : file.name) || "transcript",
      extension: dot > 0 ? file.name.slice(dot + 1) : "",
      seconds: 0,
    });
    first ??= item;
  }
  select(first);
}

function select(item) {
  if (selected === item) return;
  selected = item;
  loadPlayer(ui.player, item?.url || "");
  if (item?.result) view.render(item.result);
  else view.clear();
  render();
}

let retryTimer = 0;

/** Send the next item when nothing is in flight and the model is ready. */
function pump() {
  clearTimeout(retryTimer);
  if (!active) {
    const now = Date.now();
    const ready = model.reachable !== false && model.state === "ready";
    for (const item of items) {
      if (item.phase === "held" && ready && now >= item.retryAt) item.phase = "queued";
    }
    const next = items.find((i) => i.phase === "queued");
    if (next) send(next);
  }
  const waiting = items.filter((i) => i.phase === "held" && i.retryAt > Date.now());
  if (waiting.length) {
    const soonest = Math.min(...waiting.map((i) => i.retryAt));
    retryTimer = setTimeout(pump, Math.max(50, soonest - Date.now()));
  }
  render();
}

async function send(item) {
  if (model.maxUploadBytes && item.blob.size > model.maxUploadBytes) {
    // Refused before sending: a browser that is still uploading when the server answers
    // 413 and closes the connection often reports a network error instead of the answer.
    const limit = Math.round(model.maxUploadBytes / 2 ** 20);
    onSendFailed(item, {
      kind: "http",
      status: 413,
      detail:
        `This file is ${(item.blob.size / 2 ** 20).toFixed(1)} MB, over the ${limit} MB limit. ` +
        "Split the recording, or raise HUSH_MAX_UPLOAD_MB.",
    });
    pump();
    return;
  }
  active = item;
  item.phase = "uploading";
  item.progress = 0;
  item.error = null;
  item.note = "";
  item.retryAt = 0;
  render();
  const request = transcribe(item.blob, item.uploadName, item.options, {
    onProgress: (fraction) => {
      item.progress = fraction;
      if (item === selected) renderStatus();
    },
    onUploaded: () => {
      item.phase = "transcribing";
      item.workStarted = performance.now();
      render();
      setTimeout(history.refresh, 300); // the stored job appears in the queue
    },
  });
  item.abort = request.abort;
  try {
    item.result = await request.promise;
    item.jobId = item.result.id;
    item.phase = "done";
    if (item === selected) view.render(item.result);
  } catch (error) {
    onSendFailed(item, error);
  } finally {
    item.abort = null;
    active = null;
  }
  history.refresh();
  pump();
}

function onSendFailed(item, error) {
  const what = item.kind === "recording" ? "recording" : "file";
  if (error.kind === "aborted") {
    item.phase = "cancelled";
    return;
  }
  if (error.kind === "http" && error.status === 503) {
    // The model is loading or missing: hold the audio and try again when it is ready.
    item.phase = "held";
    item.note = error.detail;
    item.retryAt = Date.now() + 1000 * Math.min(Math.max(error.retryAfter ?? 5, 1), 60);
    pollHealth();
    return;
  }
  item.phase = "error";
  if (error.kind === "network") {
    item.error = {
      title: "Hush can't reach its server",
      text: inDesktopApp()
        ? `Restart Hush, then press Try again. Your ${what} is kept on this page.`
        : `Check that Hush is still running, then press Try again. Your ${what} is kept on this page.`,
      retry: true,
    };
    pollHealth();
    return;
  }
  const titles = {
    400: item.kind === "recording" ? "Hush couldn't read this recording" : "Hush couldn't read this file",
    409: "Transcription cancelled",
    413: "This file is too large",
    422: "Hush can't transcribe with these settings",
  };
  item.error = {
    title: titles[error.status] || "Transcription failed",
    text: error.detail || error.message,
    retry: ![400, 413].includes(error.status),
  };
}

function retry(item) {
  if (item.kind === "stored") {
    retryStored(item);
    return;
  }
  item.options = currentOptions();
  item.phase = "queued";
  item.error = null;
  item.retryAt = 0;
  pump();
}

function cancel(item) {
  if (item.kind === "stored") {
    cancelTranscription(item.jobId).catch((error) => toast(error.detail || error.message));
    return;
  }
  // The server keeps working on an upload whose request is aborted: cancel its stored job too.
  if (item.phase === "transcribing") {
    if (item.jobId) cancelTranscription(item.jobId).catch(() => {});
    else history.cancelNewest(item.uploadName);
  }
  if (item.abort) item.abort();
  else if (item.phase === "held" || item.phase === "queued") {
    item.phase = "cancelled";
    pump();
  }
}

// -- stored items: transcriptions opened from the history --------------------------------------
const STORED_ERRORS = {
  failed: "Transcription failed",
  cancelled: "Transcription cancelled",
  interrupted: "Hush stopped before this was transcribed",
};

/** Bring an item in line with its stored job (status, transcript, error). */
function applyJob(item, job) {
  item.seconds = job.duration || item.seconds;
  if (job.status === "done") {
    item.result = job;
    item.phase = "done";
    item.error = null;
  } else if (job.status === "queued" || job.status === "running") {
    item.phase = "transcribing";
    item.workStarted ??= performance.now();
  } else {
    item.phase = "error";
    item.error = { title: STORED_ERRORS[job.status] || "Not transcribed", text: `${job.error || ""} The recording is kept.`, retry: true };
  }
  if (item === selected) {
    if (item.result) view.render(item.result);
    render();
  }
}

async function openStored(summary) {
  let item = items.find((i) => i.jobId === summary.id);
  if (!item) {
    let job;
    try {
      job = await getTranscription(summary.id);
    } catch (error) {
      toast(error.detail || error.message);
      return;
    }
    const dot = job.filename.lastIndexOf(".");
    item = {
      id: nextItemId++,
      jobId: job.id,
      kind: "stored",
      blob: null,
      title: job.filename,
      stem: (dot > 0 ? job.filename.slice(0, dot) : job.filename) || "transcript",
      extension: dot > 0 ? job.filename.slice(dot + 1) : "",
      url: audioUrl(job.id),
      phase: "done",
      progress: 0,
      result: null,
      error: null,
      note: "",
      retryAt: 0,
      options: currentOptions(),
      created: Date.parse(job.created),
      seconds: 0,
    };
    items.push(item);
    applyJob(item, job);
  }
  selected = null;
  select(item);
}

async function retryStored(item) {
  try {
    applyJob(item, await retryTranscription(item.jobId));
  } catch (error) {
    toast(error.detail || error.message);
  }
  history.refresh();
}

async function onJobChanged(job) {
  const item = items.find((i) => i.jobId === job.id && i.kind === "stored");
  if (!item) return;
  applyJob(item, job.status === "done" ? await getTranscription(job.id) : job);
}

/** Link uploads in flight to their stored jobs (by file name, newest first) to show the server's
 * queue position and progress while the upload's request waits for the transcript. */
function followUploads(jobs) {
  let changed = false;
  for (const item of items) {
    if (item.kind === "stored" || item.phase !== "transcribing") continue;
    const unclaimed = (j) =>
      ["queued", "running"].includes(j.status) && j.filename === item.uploadName && !items.some((i) => i.jobId === j.id);
    const job = item.jobId ? jobs.find((j) => j.id === item.jobId) : jobs.find(unclaimed);
    if (!job) continue;
    item.jobId = job.id;
    item.position = job.status === "queued" ? job.position : 0;
    item.serverProgress = job.progress;
    changed = true;
  }
  if (changed && selected?.phase === "transcribing") render();
}

function onJobDeleted(id) {
  const gone = items.filter((i) => i.jobId === id);
  for (const item of gone) items.splice(items.indexOf(item), 1);
  if (gone.includes(selected)) {
    selected = null;
    loadPlayer(ui.player, "");
    view.clear();
    render();
  }
  toast("Deleted the transcript and its recording.");
}

// -- rendering ---------------------------------------------------------------------------------
function showNotice(container, { tone = "error", title, text, detail, actions = [] }) {
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

function itemStatus(item) {
  const name = item.kind === "recording" ? "Recording" : `“${item.title}”`;
  switch (item.phase) {
    case "held":
      if (model.reachable === false) return `${name} kept. Waiting for the Hush server…`;
      if (item.retryAt > Date.now() && model.state === "ready") {
        const seconds = Math.max(1, Math.ceil((item.retryAt - Date.now()) / 1000));
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
      return `${item.error?.title || "Transcription failed"}.`;
    case "cancelled":
      return "Not transcribed. The audio is kept.";
    default:
      return "";
  }
}

function renderStatus() {
  let phase = capture.phase;
  let text;
  if (capture.phase === "permission") text = "Waiting for permission to use the microphone…";
  else if (capture.phase === "recording") text = "Recording… press Stop when you're done.";
  else if (capture.phase === "stopping") text = "Finishing the recording…";
  else if (selected) {
    phase = selected.phase;
    text = itemStatus(selected);
  } else {
    phase = "idle";
    text =
      model.state === "ready" || model.reachable === null
        ? "Ready to record"
        : "Ready to record. Transcription starts once the model is ready.";
  }
  if (ui.status.textContent !== text) ui.status.textContent = text;
  ui.statusIcon.dataset.phase = phase;

  const uploading = selected && capture.phase === "idle" && selected.phase === "uploading";
  const transcribing = selected && capture.phase === "idle" && selected.phase === "transcribing";
  const measured = transcribing && selected.serverProgress > 0; // the server's % of the audio done
  ui.progress.dataset.mode = uploading || measured ? "determinate" : transcribing ? "indeterminate" : "none";
  const fraction = uploading ? selected.progress : measured ? selected.serverProgress : 0;
  ui.progress.style.setProperty("--progress", String(fraction));
}

function renderCapture() {
  const recording = capture.phase === "recording" || capture.phase === "stopping";
  ui.record.dataset.recording = String(recording);
  ui.record.dataset.phase = capture.phase;
  ui.recordLabel.textContent = recording ? "Stop" : capture.phase === "permission" ? "Starting…" : "Record";
  ui.record.disabled = capture.phase === "permission" || capture.phase === "stopping";
  ui.record.setAttribute("aria-label", recording ? "Stop recording" : "Record");
  ui.microphone.disabled = capture.phase !== "idle";
  document.body.dataset.capture = capture.phase;
  if (!recording) drawLevels();
}

function renderItem() {
  const item = selected;
  ui.empty.hidden = Boolean(item);
  ui.item.hidden = !item;
  if (!item) return;

  ui.itemTitle.textContent = item.title;
  const seconds = item.result?.duration || item.seconds || (Number.isFinite(ui.player.duration) ? ui.player.duration : 0);
  const meta = [];
  if (seconds) meta.push(formatClock(Math.max(1, seconds))); // like the player: whole seconds
  if (item.blob) meta.push(formatBytes(item.blob.size));
  if (item.result?.language) meta.push(languageName(item.result.language));
  if (item.phase === "done" && item.options.task === "translate") meta.push("translated to English");
  ui.itemMeta.textContent = meta.join(" · ");

  const audioName = item.kind === "recording" ? `${item.stem}.${item.extension}` : item.title;
  if (ui.downloadAudio.getAttribute("href") !== item.url) ui.downloadAudio.setAttribute("href", item.url);
  ui.downloadAudio.setAttribute("download", audioName);
  ui.downloadAudioLabel.textContent = item.kind === "file" ? "Original file" : "Recording";
  ui.downloadAudioExt.textContent = audioName.includes(".") ? audioName.slice(audioName.lastIndexOf(".")) : "";

  // Working panel: held / queued / uploading / transcribing.
  const working = ["held", "queued", "uploading", "transcribing"].includes(item.phase);
  ui.working.hidden = !working;
  ui.working.dataset.phase = item.phase;
  if (working) {
    const titles = {
      held:
        model.reachable === false
          ? "Waiting for the Hush server"
          : item.retryAt > Date.now() && model.state === "ready"
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
    const held =
      model.reachable === false
        ? "Hush can't reach its server right now. The audio is kept and sent as soon as the server answers."
        : `${item.note || model.detail || "The model is loading."} This will be transcribed automatically when the model is ready.`;
    const details = {
      held,
      queued: "Another transcription is running; this one starts right after it.",
      uploading: `Sending ${formatBytes(item.blob?.size || 0)} to the speech model on this computer.`,
      transcribing: item.position
        ? `${item.position} ${item.position === 1 ? "transcription is" : "transcriptions are"} ahead of this one.`
        : `Running the speech model on this computer${item.workStarted ? ` · ${formatClock((performance.now() - item.workStarted) / 1000)}` : ""}. Long audio takes a while.`,
    };
    ui.workingTitle.textContent = titles[item.phase];
    ui.workingDetail.textContent = details[item.phase];
    ui.cancel.textContent = item.phase === "held" || item.phase === "queued" ? "Don't transcribe" : "Cancel";
  }

  // Notices: error / cancelled.
  if (item.phase === "error" && item.error) {
    const actions = item.error.retry ? [{ label: "Try again", handler: () => retry(item) }] : [];
    if (item.kind !== "file") {
      actions.push({ label: "Download recording", handler: () => ui.downloadAudio.click(), secondary: true });
    }
    showNotice(ui.itemNotice, {
      tone: "error",
      title: item.error.title,
      text: item.error.text,
      actions,
    });
  } else if (item.phase === "cancelled") {
    showNotice(ui.itemNotice, {
      tone: "info",
      title: "Not transcribed",
      text: "The audio is kept. Transcribe it whenever you like, with the current language and task.",
      actions: [{ label: "Transcribe", handler: () => retry(item) }],
    });
  } else if (!ui.itemNotice.hidden) {
    ui.itemNotice.hidden = true;
    ui.itemNotice.replaceChildren();
  }

  const done = item.phase === "done";
  ui.viewToggle.hidden = !done || !item.result?.segments?.length;
  ui.copy.hidden = !done || !item.result?.text;
  for (const button of ui.downloadMenu.querySelectorAll("[data-format]")) button.disabled = !done;
  ui.transcript.hidden = !done;
  ui.result.dataset.phase = item.phase;
}

function renderSession() {
  const recent = items.filter((item) => item.kind !== "stored"); // the history lists the rest
  ui.session.hidden = recent.length < 2;
  if (recent.length < 2) return;
  const badges = {
    held: "Waiting",
    queued: "Queued",
    uploading: "Uploading",
    transcribing: "Transcribing",
    done: "Done",
    error: "Failed",
    cancelled: "Not transcribed",
  };
  const rows = [...recent].reverse().map((item) => {
    const meta = item.result?.duration || item.seconds;
    const button = element(
      "button",
      {
        type: "button",
        class: "session-item",
        "aria-current": item === selected ? "true" : "false",
        onclick: () => select(item),
      },
      element("span", { class: "session-name", text: item.title }),
      element("span", {
        class: "session-meta",
        text: meta ? formatClock(Math.max(1, meta)) : formatBytes(item.blob.size),
      }),
      element("span", { class: "badge", "data-phase": item.phase, text: badges[item.phase] || item.phase }),
    );
    return element("li", {}, button);
  });
  ui.sessionList.replaceChildren(...rows);
}

function render() {
  renderCapture();
  renderStatus();
  renderItem();
  renderSession();
}

// Once a second: the held-retry countdown and the transcribing clock.
setInterval(() => {
  if (selected && ["held", "transcribing"].includes(selected.phase)) render();
}, 1000);

// -- downloads and copy -------------------------------------------------------------------------
async function downloadExport(format, button) {
  const item = selected;
  closeMenu();
  if (!item?.result) return;
  button.disabled = true;
  try {
    const { blob } = await exportTranscript(format, item.result);
    if (await saveBlob(blob, `${item.stem}.${format}`)) toast(`Saved ${item.stem}.${format}`);
  } catch (error) {
    toast(`Couldn't export ${format.toUpperCase()}: ${error.detail || error.message}`);
  } finally {
    button.disabled = false;
  }
}

function closeMenu() {
  ui.downloadMenu.open = false;
}

let copyTimer = 0;
async function copyTranscript() {
  const text = selected?.result?.text;
  if (!text) return;
  const ok = await copyToClipboard(text);
  ui.copyLabel.textContent = ok ? "Copied" : "Copy failed";
  toast(ok ? "Transcript copied to the clipboard." : "Couldn't copy: select the text and press Ctrl+C instead.");
  clearTimeout(copyTimer);
  copyTimer = setTimeout(() => {
    ui.copyLabel.textContent = "Copy";
  }, 2000);
}

function setView(name) {
  view.setView(name);
  ui.viewSegments.setAttribute("aria-pressed", String(name === "segments"));
  ui.viewText.setAttribute("aria-pressed", String(name === "text"));
  store.set(KEYS.view, name);
}

// -- events ---------------------------------------------------------------------------------------
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

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target)) return;
  const isSpace = event.code === "Space" || event.key === " ";
  const isR = event.key === "r" || event.key === "R";
  if (!isSpace && !isR) return;
  if (isSpace && spaceBelongsTo(event.target)) return;
  event.preventDefault();
  toggleRecording();
});

ui.record.addEventListener("click", () => toggleRecording());
ui.importButton.addEventListener("click", () => ui.fileInput.click());
ui.fileInput.addEventListener("change", () => {
  addFiles(ui.fileInput.files);
  ui.fileInput.value = "";
});
ui.cancel.addEventListener("click", () => selected && cancel(selected));
ui.copy.addEventListener("click", copyTranscript);
ui.viewSegments.addEventListener("click", () => setView("segments"));
ui.viewText.addEventListener("click", () => setView("text"));
for (const button of document.querySelectorAll("[data-format]")) {
  button.addEventListener("click", () => downloadExport(button.dataset.format, button));
}
ui.downloadAudio.addEventListener("click", (event) => {
  closeMenu();
  if (desktopSaver() && selected) {
    event.preventDefault();
    const blob = selected.blob ? Promise.resolve(selected.blob) : fetch(selected.url).then((r) => r.blob());
    blob.then((data) => saveBlob(data, ui.downloadAudio.getAttribute("download"))).catch((error) =>
      toast(`Couldn't save the audio: ${error?.message || error}`),
    );
  }
});
document.addEventListener("click", (event) => {
  if (ui.downloadMenu.open && !ui.downloadMenu.contains(event.target)) closeMenu();
});
ui.downloadMenu.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && ui.downloadMenu.open) {
    event.stopPropagation();
    closeMenu();
    ui.downloadMenu.querySelector("summary").focus();
  }
});
ui.microphone.addEventListener("change", () => store.set(KEYS.microphone, ui.microphone.value));
ui.language.addEventListener("change", () => store.set(KEYS.language, ui.language.value));
ui.task.addEventListener("change", () => store.set(KEYS.task, ui.task.value));
ui.player.addEventListener("loadedmetadata", () => renderItem());
ui.player.addEventListener("durationchange", () => renderItem());
navigator.mediaDevices?.addEventListener?.("devicechange", refreshMicrophones);

// Drag and drop anywhere on the page.
let dragDepth = 0;
const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
window.addEventListener("dragenter", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  dragDepth++;
  ui.dropOverlay.hidden = false;
});
window.addEventListener("dragover", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "copy";
});
window.addEventListener("dragleave", (event) => {
  if (!carriesFiles(event)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) ui.dropOverlay.hidden = true;
});
window.addEventListener("drop", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  dragDepth = 0;
  ui.dropOverlay.hidden = true;
  addFiles(event.dataTransfer.files);
});

window.addEventListener("beforeunload", (event) => {
  const busy = capture.phase === "recording" || items.some((i) => ["held", "queued", "uploading", "transcribing"].includes(i.phase));
  if (busy) {
    event.preventDefault();
    event.returnValue = "";
  }
});

matchMedia("(prefers-color-scheme: dark)").addEventListener?.("change", () => {
  meterColors = null;
  drawLevels();
});
window.addEventListener("resize", drawLevels);

// -- start ------------------------------------------------------------------------------------------
function init() {
  const task = store.get(KEYS.task);
  if (task === "transcribe" || task === "translate") ui.task.value = task;
  setView(store.get(KEYS.view) === "text" ? "text" : "segments");
  if (!recordingSupported()) {
    showMicrophoneProblem({ kind: window.isSecureContext ? "unsupported" : "insecure" });
  } else {
    microphonePermission().then((state) => {
      if (state === "denied") showMicrophoneProblem({ kind: "denied" });
    });
  }
  refreshMicrophones();
  initModels({ onActivated: () => pollHealth() });
  history.refresh();
  render();
  pollHealth();
}

init();

// For tests and debugging in the browser console.
window.hush = { items, model, get selected() { return selected; } };
