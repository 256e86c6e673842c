// The microphone side of the page: the device picker and one recording at a time.
//
//   capture.phase:  idle → permission → recording → stopping → idle

import { element, hideNotice, showNotice } from "./dom.js";
import { formatClock } from "./format.js";
import { microphoneProblem, NOTHING_RECORDED } from "./messages.js";
import { inDesktopApp, KEYS, settings } from "./platform.js";
import { listMicrophones, Recorder } from "./recorder.js";

/**
 * `microphone` (the picker), `timer` and `notice` are the capture card's elements, `meter`
 * the level meter. `onStarted()` hears that recording runs, `onPcm(packet)` gets its audio
 * for live text, `onRecorded({blob, extension, seconds, startedAt})` receives each recording
 * (or null when nothing was recorded); `onChange()` re-renders; `toast(text)` says something in passing.
 */
export function createCapture({ microphone, timer, notice, meter, onStarted, onPcm, onRecorded, onChange, toast }) {
  const capture = { phase: "idle" };
  let recorder = null;
  let startedAt = 0;
  let ticker = 0;

  async function refreshMicrophones() {
    const devices = await listMicrophones().catch(() => []);
    const wanted = settings.get(KEYS.microphone) || "";
    const options = [element("option", { value: "", text: "Default microphone" })];
    for (const device of devices) {
      if (device.id === "default") continue; // Chromium's alias of the system default
      options.push(element("option", { value: device.id, text: device.label }));
    }
    microphone.replaceChildren(...options);
    microphone.value = devices.some((d) => d.id === wanted) ? wanted : "";
  }

  function toggle() {
    if (capture.phase === "recording") return stop();
    if (capture.phase === "idle") return start();
    return undefined; // asking for permission or finishing: ignore extra presses
  }

  async function start() {
    hideNotice(notice);
    capture.phase = "permission";
    meter.reset();
    timer.textContent = formatClock(0);
    onChange();

    recorder = new Recorder({ onLevel: meter.push, onEnded: onMicrophoneEnded, onPcm });
    const wanted = microphone.value;
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
      if (used && [...microphone.options].some((o) => o.value === used)) microphone.value = used;
      if (capture.phase !== "permission") {
        recorder.cancel(); // the page moved on while the permission prompt was open
        return;
      }
      await recorder.start();
    } catch (error) {
      recorder?.cancel();
      recorder = null;
      capture.phase = "idle";
      showProblem(error);
      onChange();
      return;
    }
    capture.phase = "recording";
    startedAt = Date.now();
    onStarted();
    clearInterval(ticker);
    ticker = setInterval(() => {
      if (recorder && capture.phase === "recording") timer.textContent = formatClock(recorder.elapsed);
    }, 200);
    onChange();
  }

  async function stop() {
    if (!recorder || capture.phase !== "recording") return;
    capture.phase = "stopping";
    clearInterval(ticker);
    onChange();
    const recorded = await recorder.stop();
    recorder = null;
    capture.phase = "idle";
    if (!recorded || recorded.blob.size === 0) {
      showNotice(notice, { tone: "error", ...NOTHING_RECORDED });
      onRecorded(null);
      onChange();
      return;
    }
    timer.textContent = formatClock(recorded.seconds);
    onRecorded({ ...recorded, startedAt: new Date(startedAt) });
  }

  function onMicrophoneEnded() {
    if (capture.phase !== "recording") return;
    toast("The microphone was disconnected. What was recorded so far is kept.");
    stop();
  }

  /** Explain why the microphone can't be used (a MicrophoneError, or {kind}). */
  function showProblem(error) {
    showNotice(notice, {
      tone: "error",
      ...microphoneProblem(error, inDesktopApp()),
      actions: [{ label: "Dismiss", handler: () => hideNotice(notice), secondary: true }],
    });
  }

  microphone.addEventListener("change", () => settings.set(KEYS.microphone, microphone.value));
  navigator.mediaDevices?.addEventListener?.("devicechange", refreshMicrophones);

  return { state: capture, toggle, refreshMicrophones, showProblem };
}
