// Rendering the state into the page: the model pill and banner, the capture card's
// button and status line, the selected item's panel, and the session list.
// Everything here reads state and writes DOM; nothing here changes state.

import { element, hideNotice, showNotice } from "./dom.js";
import { formatBytes, formatClock, languageName, sortedLanguages } from "./format.js";
import {
  CANCELLED_NOTICE,
  captureStatus,
  errorNotice,
  idleStatus,
  itemStatus,
  modelBanner,
  modelLabel,
  PHASE_BADGES,
  workingText,
} from "./messages.js";
import { inDesktopApp } from "./platform.js";
import { WORKING } from "./queue.js";

/**
 * `ui`: elements.js; `model`: the health state; `capture`: {phase}; `items`: the queue's
 * items; `selected()`: the item shown; `meter`: the level meter; `actions`: what the
 * notices' buttons do ({retry(item), select(item), downloadAudio()}).
 */
export function createViews({ ui, model, capture, items, selected, meter, actions }) {
  /** The pill's and banner's state: the model's, or "down" / "unknown" for the server. */
  function modelState() {
    if (model.reachable === false) return "down";
    if (model.reachable === null) return "unknown";
    return model.state;
  }

  function renderModel() {
    const state = modelState();
    ui.modelPill.dataset.state = state;
    ui.banner.dataset.state = state;
    ui.version.textContent = model.version || "";
    ui.modelPillLabel.textContent = modelLabel(state, model);
    ui.modelPill.title = model.remote ? `Transcribed by ${model.id}` : model.id ? `Speech model: ${model.id}` : "Speech model";
    ui.footerPrivacy.textContent = model.remote
      ? `Audio is sent to the chosen server to be transcribed (${model.engine.replace(/^Servers?: /, "")}); the history stays on this computer.`
      : "Runs offline. Your audio and text stay on this computer.";
    ui.brandTagline.textContent = model.remote
      ? "Speech to text on your server, history on this computer"
      : "Speech to text that stays on this computer";
    const banner = modelBanner(state, model, inDesktopApp());
    ui.banner.hidden = !banner;
    ui.bannerChoose.hidden = !(state === "missing" || state === "error");
    if (banner) [ui.bannerTitle.textContent, ui.bannerDetail.textContent] = banner;
    render();
  }

  /** The language list from the model's languages; `wanted` is kept if the model knows it. */
  function fillLanguages(wanted) {
    const options = [element("option", { value: "", text: "Auto-detect" })];
    for (const { code, name } of sortedLanguages(model.languages)) {
      options.push(element("option", { value: code, text: name }));
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

  function renderStatus() {
    const item = selected();
    let phase = capture.phase;
    let text = captureStatus(capture.phase);
    if (!text) {
      phase = item ? item.phase : "idle";
      text = item ? itemStatus(item, model) : idleStatus(model);
    }
    if (ui.status.textContent !== text) ui.status.textContent = text;
    ui.statusIcon.dataset.phase = phase;

    const idle = item && capture.phase === "idle";
    const uploading = idle && item.phase === "uploading";
    const transcribing = idle && item.phase === "transcribing";
    const measured = transcribing && item.serverProgress > 0; // the server's % of the audio done
    ui.progress.dataset.mode = uploading || measured ? "determinate" : transcribing ? "indeterminate" : "none";
    const fraction = uploading ? item.progress : measured ? item.serverProgress : 0;
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
    if (!recording) meter.draw();
  }

  function renderItem() {
    const item = selected();
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

    const working = WORKING.has(item.phase);
    ui.working.hidden = !working;
    ui.working.dataset.phase = item.phase;
    if (working) {
      const { title, detail, cancel } = workingText(item, model);
      ui.workingTitle.textContent = title;
      ui.workingDetail.textContent = detail;
      ui.cancel.textContent = cancel;
    }
    renderNotice(item);

    // A long file's text as the server decodes it, window by window, until the whole transcript is in.
    const soFar = item.phase === "transcribing" ? (item.partial || []).map((s) => s.text).join(" ") : "";
    ui.soFar.hidden = !soFar;
    if (ui.soFar.textContent !== soFar) ui.soFar.textContent = soFar;

    const done = item.phase === "done";
    ui.viewToggle.hidden = !done || !item.result?.segments?.length;
    ui.copy.hidden = !done || !item.result?.text;
    for (const button of ui.downloadMenu.querySelectorAll("[data-format]")) button.disabled = !done;
    ui.transcript.hidden = !done;
    ui.result.dataset.phase = item.phase;
  }

  /** The item's notice: why it failed, or that it was not transcribed, with the way back. */
  function renderNotice(item) {
    if (item.phase === "error" && item.error) {
      const buttons = item.error.retry ? [{ label: "Try again", handler: () => actions.retry(item) }] : [];
      if (item.kind !== "file") {
        buttons.push({ label: "Download recording", handler: actions.downloadAudio, secondary: true });
      }
      showNotice(ui.itemNotice, { tone: "error", ...errorNotice(item, inDesktopApp()), actions: buttons });
    } else if (item.phase === "cancelled") {
      showNotice(ui.itemNotice, {
        tone: "info",
        ...CANCELLED_NOTICE,
        actions: [{ label: "Transcribe", handler: () => actions.retry(item) }],
      });
    } else if (!ui.itemNotice.hidden) {
      hideNotice(ui.itemNotice);
    }
  }

  function renderSession() {
    const recent = items.filter((item) => item.kind !== "stored"); // the history lists the rest
    ui.session.hidden = recent.length < 2;
    if (recent.length < 2) return;
    const rows = [...recent].reverse().map((item) => {
      const seconds = item.result?.duration || item.seconds;
      const button = element(
        "button",
        {
          type: "button",
          class: "session-item",
          "aria-current": item === selected() ? "true" : "false",
          onclick: () => actions.select(item),
        },
        element("span", { class: "session-name", text: item.title }),
        element("span", {
          class: "session-meta",
          text: seconds ? formatClock(Math.max(1, seconds)) : formatBytes(item.blob.size),
        }),
        element("span", { class: "badge", "data-phase": item.phase, text: PHASE_BADGES[item.phase] || item.phase }),
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

  return { render, renderStatus, renderItem, renderModel, fillLanguages };
}
