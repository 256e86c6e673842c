// Hush's recorder page: wires the modules together.
//
//   health.js      the model's state (GET /api/health)
//   capture.js     the microphone: idle → permission → recording → stopping → idle
//   queue.js       each recording or file: held → queued → uploading → transcribing → done
//   history.js     the server's stored transcriptions; opening one makes it a "stored" item;
//                  history-view.js shows them
//   models.js      the speech models: downloads, the one in use; models-view.js is its panel
//   engines.js     where transcription runs (this computer or servers); engines-view.js, in the same panel
//   desktop.js     the window app's place on this computer (menu, background, login); desktop-view.js
//   dictation.js   dictation into other apps; dictation-progress.js feeds its indicator, type-again.js
//                  types a dictation from the history again
//   live.js        live text while recording (the /api/live socket); live-view.js shows it
//   transcript.js  the transcript in time with the player, corrected in place (corrections.js saves)
//                  and who speaks (speakers-view.js; speakers.js saves names, merges and moves)
//                  (both send through edits.js: the newest answer wins)
//   views.js       the rest rendered; messages.js says it in words
//   meter.js, toast.js, dropzone.js, shortcuts.js  the level meter, messages in passing,
//                  dropped files, the keyboard
//
// Every module is made the same way: createX({...}) takes its elements, `api` (api.js) and
// callbacks, and returns an object of what the page may call (nothing, for the two that only
// listen: the drop zone and the shortcuts). The state modules (health, queue, history, models,
// live, corrections) touch no DOM, so node tests can drive them with stubs.
// This file holds what the page shows (the selected item) and the buttons' handlers.

import * as api from "./api.js";
import { createCapture } from "./capture.js";
import { createCorrections } from "./corrections.js";
import { createDesktop } from "./desktop.js";
import { createDesktopView } from "./desktop-view.js";
import { createDropZone } from "./dropzone.js";
import { createEngines } from "./engines.js";
import { createEnginesView } from "./engines-view.js";
import { ui } from "./elements.js";
import { createHealth } from "./health.js";
import { createHistory } from "./history.js";
import { createHistoryView } from "./history-view.js";
import { createMeter } from "./meter.js";
import { createLive, liveText } from "./live.js";
import { createLiveView } from "./live-view.js";
import { createModels } from "./models.js";
import { createModelsView } from "./models-view.js";
import { copyToClipboard, desktopSaver, inDesktopApp, KEYS, saveBlob, settings } from "./platform.js";
import { createQueue, fileItem, recordingItem } from "./queue.js";
import { microphonePermission, Recorder, recordingSupported } from "./recorder.js";
import { createDictation } from "./dictation.js";
import { createDictationProgress } from "./dictation-progress.js";
import { createShortcuts } from "./shortcuts.js";
import { createSpeakers, turnsText } from "./speakers.js";
import { createToast } from "./toast.js";
import { createTranscriptView, loadPlayer } from "./transcript.js";
import { createTypeAgain } from "./type-again.js";
import { createViews } from "./views.js";

const toast = createToast({ node: ui.toast });
const transcriptView = createTranscriptView({
  container: ui.transcript,
  audio: ui.player,
  actions: {
    correct: (index, text) => selected && corrections.correct(selected, index, text),
    revert: (index) => selected && corrections.revert(selected, index),
    rename: (speaker, name) => selected && speakers.rename(selected, speaker, name),
    merge: (speaker, into) => selected && speakers.merge(selected, speaker, into),
    unmerge: (speaker) => selected && speakers.unmerge(selected, speaker),
    move: (index, speaker) => selected && speakers.move(selected, index, speaker),
    label: (count) => selected && speakers.label(selected, count),
  },
});
let selected = null;

const health = createHealth({
  api,
  onUpdate: (model, { languagesChanged }) => {
    if (languagesChanged) views.fillLanguages(ui.language.value || settings.get(KEYS.language) || "");
    views.renderModel();
    queue.pump();
    if (model.desktop) desktop.load();
  },
});

const queue = createQueue({
  api,
  model: health.model,
  options: () => ({ language: ui.language.value, task: ui.task.value, speakers: speakersOption() }),
  events: {
    changed: () => {
      views.render();
      showLive();
    },
    progress: (item) => item === selected && views.renderStatus(),
    result: (item) => item === selected && transcriptView.render(item.result),
    jobsChanged: () => history.refresh(),
    checkHealth: () => health.poll(),
    error: (error) => toast.show(error.detail || error.message),
  },
});

const meter = createMeter({ meter: ui.level, canvas: ui.levelCanvas });

// The recording whose live text stays shown until its full transcript arrives.
let liveItem = null;
const live = createLive({ onChange: () => showLive() });
const liveView = createLiveView({ ui });

const capture = createCapture({
  microphone: ui.microphone,
  timer: ui.timer,
  notice: ui.captureNotice,
  meter,
  onStarted: () => {
    liveItem = null;
    live.start({ language: ui.language.value, task: ui.task.value });
  },
  onPcm: (packet) => live.send(packet),
  onRecorded: (recorded) => {
    liveItem = recorded ? add(recordingItem(recorded)) : null;
    live.stop();
  },
  onChange: () => {
    views.render();
    showLive();
  },
  toast: toast.show,
});

const views = createViews({
  ui,
  model: health.model,
  capture: capture.state,
  items: queue.items,
  selected: () => selected,
  meter,
  actions: { retry: queue.retry, select, downloadAudio: () => ui.downloadAudio.click() },
});

const corrections = createCorrections({
  api,
  events: {
    changed: (item) => {
      if (item === selected) transcriptView.render(item.result);
      history.refresh(); // the history shows (and finds) the corrected text
    },
    error: (error) => toast.show(`Couldn't save the correction: ${error.detail || error.message}`),
  },
});

const speakers = createSpeakers({
  api,
  events: {
    changed: (item) => {
      if (item === selected) transcriptView.render(item.result);
      history.refresh(); // the history finds a transcript by its speakers' names
    },
    error: (error) => toast.show(`Couldn't change the speakers: ${error.detail || error.message}`),
  },
});

/** The speakers option of a new transcription: off, auto or a number. */
function speakersOption() {
  return ui.speakers.checked ? ui.speakerCount.value : "off";
}

function rememberSpeakers() {
  ui.speakerCount.disabled = !ui.speakers.checked;
  settings.set(KEYS.speakers, speakersOption());
}

const history = createHistory({
  api,
  events: {
    changed: () => historyView.render(),
    jobChanged: queue.jobChanged,
    deleted: onJobDeleted,
    error: (error) => toast.show(error.detail || error.message),
  },
});

const typeAgain = createTypeAgain({
  api,
  events: {
    changed: () => historyView.render(),
    typed: (delivery) => delivery.message && toast.show(delivery.message),
    error: (error) => toast.show(`Couldn't type it again: ${error.detail || error.message}`),
  },
});

const historyView = createHistoryView({
  history,
  panel: ui.history,
  list: ui.historyList,
  search: ui.historySearch,
  empty: ui.historyEmpty,
  onOpen: openStored,
  typeAgain: inDesktopApp() ? typeAgain : null,
});

const models = createModels({
  api,
  events: {
    changed: () => modelsView.render(),
    activated: () => health.poll(),
  },
});

const modelsView = createModelsView({ models, ui });

const engines = createEngines({
  api,
  events: {
    changed: () => enginesView.render(),
    saved: () => health.poll(),
  },
});
const enginesView = createEnginesView({ engines, ui });
for (const opener of ui.modelsOpeners) opener.addEventListener("click", () => engines.load());
const desktop = createDesktop({ api, events: { changed: () => desktopView.render() } });
const desktopView = createDesktopView({ desktop, ui });

// The window app calls these: a second launch (or "Open with Hush") brought the window to the
// front, maybe with new files queued in the history; the tray's "Record".
window.addEventListener("hush:shown", () => {
  history.refresh();
  health.poll();
});
window.addEventListener("hush:record", () => {
  if (capture.state.phase === "idle") capture.toggle();
});

// Dictation into other apps: the shortcut, the tray's "Dictate" or `hush dictate` (see dictation.js).
// While it records, the indicator over the other app shows its level and live text (dictation-progress.js).
const dictation = createDictation({
  api,
  openRecorder: async () => {
    const progress = createDictationProgress({ send: api.sendDictationProgress });
    const preview = createLive({ onChange: (state) => progress.text(joinedLive(state)) });
    const recorder = new Recorder({
      onPcm: (packet) => {
        progress.pcm(packet);
        preview.send(packet);
      },
    });
    await recorder.open(settings.get(KEYS.microphone) || "").catch(() => recorder.open(""));
    await recorder.start();
    preview.start({ language: ui.language.value, task: "transcribe" });
    return {
      stop: () => {
        progress.stop();
        preview.close();
        return recorder.stop();
      },
    };
  },
  events: {
    changed: () => {
      document.documentElement.dataset.dictation = dictation.state.phase;
      document.documentElement.dataset.dictationSending = String(dictation.state.sending);
    },
    sent: (result) => {
      history.refresh();
      if (result.delivery.message) toast.show(result.delivery.message);
    },
    error: (error) => toast.show(`Dictation failed: ${error.detail || error.message}`),
  },
});
window.addEventListener("hush:dictate", (event) => dictation.handle(event.detail));

/** The live text as one line: confirmed words, then the tentative tail. */
function joinedLive(state) {
  const { confirmed, tentative } = liveText(state);
  return [confirmed, tentative].filter(Boolean).join(" ");
}

// -- what the result panel shows ----------------------------------------------------------------
/** Live text while recording, and after Stop until the recording's full transcript replaces it. */
function showLive() {
  const recording = ["recording", "stopping"].includes(capture.state.phase);
  const waiting = liveItem !== null && liveItem === selected && !["done", "error", "cancelled"].includes(liveItem.phase);
  liveView.render(live.state, recording || waiting);
  ui.result.dataset.live = recording ? "only" : waiting ? "above" : "off";
  if (recording) {
    ui.empty.hidden = true; // the live panel is the transcript for now
    ui.item.hidden = true;
  }
}

function select(item) {
  if (selected === item) return;
  selected = item;
  loadPlayer(ui.player, item?.url || "");
  if (item?.result) transcriptView.render(item.result);
  else transcriptView.clear();
  views.render();
  showLive();
}

function add(fields) {
  const item = queue.add({ ...fields, url: URL.createObjectURL(fields.blob) });
  select(item);
  return item;
}

function addFiles(files) {
  const added = [...files].filter((f) => f && f.size !== undefined).map((file) => add(fileItem(file)));
  if (added.length) select(added[0]);
}

async function openStored(summary) {
  let item;
  try {
    item = await queue.open(summary.id);
  } catch (error) {
    toast.show(error.detail || error.message);
    return;
  }
  selected = null; // reload the player and the transcript even if it is shown already
  select(item);
}

function onJobDeleted(id) {
  const gone = queue.remove(id);
  if (gone.includes(selected)) {
    selected = null;
    loadPlayer(ui.player, "");
    transcriptView.clear();
    views.render();
  }
  toast.show("Deleted the transcript and its recording.");
}

// Once a second: the held-retry countdown and the transcribing clock.
setInterval(() => {
  if (selected && ["held", "transcribing"].includes(selected.phase)) views.render();
}, 1000);

// -- downloads, copy and the transcript's view ---------------------------------------------------
async function downloadExport(format, button) {
  const item = selected;
  closeMenu();
  if (!item?.result) return;
  button.disabled = true;
  try {
    const blob = await api.exportTranscript(format, item.result);
    if (await saveBlob(blob, `${item.stem}.${format}`)) toast.show(`Saved ${item.stem}.${format}`);
  } catch (error) {
    toast.show(`Couldn't export ${format.toUpperCase()}: ${error.detail || error.message}`);
  } finally {
    button.disabled = false;
  }
}

/** In the desktop window a download link does nothing: save the audio through its dialog instead. */
function saveAudioInDesktop(event) {
  closeMenu();
  if (!desktopSaver() || !selected) return;
  event.preventDefault();
  const blob = selected.blob ? Promise.resolve(selected.blob) : fetch(selected.url).then((r) => r.blob());
  blob
    .then((data) => saveBlob(data, ui.downloadAudio.getAttribute("download")))
    .catch((error) => toast.show(`Couldn't save the audio: ${error?.message || error}`));
}

function closeMenu() {
  ui.downloadMenu.open = false;
}

let copyTimer = 0;
async function copyTranscript() {
  const text = turnsText(selected?.result);
  if (!text) return;
  const ok = await copyToClipboard(text);
  ui.copyLabel.textContent = ok ? "Copied" : "Copy failed";
  toast.show(ok ? "Transcript copied to the clipboard." : "Couldn't copy: select the text and press Ctrl+C instead.");
  clearTimeout(copyTimer);
  copyTimer = setTimeout(() => {
    ui.copyLabel.textContent = "Copy";
  }, 2000);
}

function setView(name) {
  transcriptView.setView(name);
  ui.viewSegments.setAttribute("aria-pressed", String(name === "segments"));
  ui.viewText.setAttribute("aria-pressed", String(name === "text"));
  settings.set(KEYS.view, name);
}

// -- events ---------------------------------------------------------------------------------------
createShortcuts({ onToggleRecording: capture.toggle });
createDropZone({ overlay: ui.dropOverlay, onFiles: addFiles });
ui.record.addEventListener("click", () => capture.toggle());
ui.importButton.addEventListener("click", () => ui.fileInput.click());
ui.fileInput.addEventListener("change", () => {
  addFiles(ui.fileInput.files);
  ui.fileInput.value = "";
});
ui.cancel.addEventListener("click", () => selected && queue.cancel(selected));
ui.copy.addEventListener("click", copyTranscript);
ui.viewSegments.addEventListener("click", () => setView("segments"));
ui.viewText.addEventListener("click", () => setView("text"));
for (const button of ui.downloadMenu.querySelectorAll("[data-format]")) {
  button.addEventListener("click", () => downloadExport(button.dataset.format, button));
}
ui.downloadAudio.addEventListener("click", saveAudioInDesktop);
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
ui.language.addEventListener("change", () => settings.set(KEYS.language, ui.language.value));
ui.task.addEventListener("change", () => settings.set(KEYS.task, ui.task.value));
ui.speakers.addEventListener("change", rememberSpeakers);
ui.speakerCount.addEventListener("change", rememberSpeakers);
ui.player.addEventListener("loadedmetadata", () => views.renderItem());
ui.player.addEventListener("durationchange", () => views.renderItem());

window.addEventListener("beforeunload", (event) => {
  if (capture.state.phase === "recording" || queue.busy()) {
    event.preventDefault();
    event.returnValue = "";
  }
});

// -- start ------------------------------------------------------------------------------------------
const task = settings.get(KEYS.task);
if (task === "transcribe" || task === "translate") ui.task.value = task;
const labelling = settings.get(KEYS.speakers);
if (labelling && labelling !== "off" && [...ui.speakerCount.options].some((o) => o.value === labelling)) {
  ui.speakers.checked = true;
  ui.speakerCount.value = labelling;
}
ui.speakerCount.disabled = !ui.speakers.checked;
setView(settings.get(KEYS.view) === "text" ? "text" : "segments");
if (!recordingSupported()) {
  capture.showProblem({ kind: window.isSecureContext ? "unsupported" : "insecure" });
} else {
  microphonePermission().then((state) => {
    if (state === "denied") capture.showProblem({ kind: "denied" });
  });
}
capture.refreshMicrophones();
history.refresh();
views.render();
health.poll();

// For tests and debugging in the browser console.
window.hush = {
  items: queue.items,
  model: health.model,
  live,
  get selected() {
    return selected;
  },
};
