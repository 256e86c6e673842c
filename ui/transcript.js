// Showing a transcript: text, timestamped segments and the audio player.

import { formatClock } from "./format.js";

/**
 * Load `url` into the <audio> element. MediaRecorder's WebM has no duration in its
 * header, so browsers report Infinity and cannot show a seek bar until they have
 * scanned the file once: seek far past the end to make them do that.
 */
export function loadPlayer(audio, url) {
  audio.pause();
  audio.removeAttribute("src");
  if (!url) {
    audio.load();
    return;
  }
  audio.src = url;
  audio.load();
  const fixDuration = () => {
    if (audio.duration !== Infinity) return;
    const restore = () => {
      if (!Number.isFinite(audio.duration)) return;
      audio.removeEventListener("durationchange", restore);
      audio.currentTime = 0;
    };
    audio.addEventListener("durationchange", restore);
    audio.currentTime = 1e7;
  };
  audio.addEventListener("loadedmetadata", fixDuration, { once: true });
}

/** Seek the player to `seconds` and play from there. */
export function playFrom(audio, seconds) {
  const seek = () => {
    audio.currentTime = seconds;
    const played = audio.play();
    played?.catch?.(() => {}); // autoplay refusal: the seek still happened
  };
  if (audio.readyState >= 1) seek();
  else audio.addEventListener("loadedmetadata", seek, { once: true });
}

/**
 * Renders a transcription result into `container` (data-testid="transcript"):
 * one row per segment with its start time (click to play from there), or the plain text.
 */
export class TranscriptView {
  constructor(container, audio) {
    this.container = container;
    this.audio = audio;
    this.result = null;
    this.rows = [];
    this.current = -1;
    audio.addEventListener("timeupdate", () => this.follow());
    audio.addEventListener("seeked", () => this.follow());
    container.addEventListener("click", (event) => this.onClick(event));
  }

  clear() {
    this.result = null;
    this.rows = [];
    this.current = -1;
    this.container.replaceChildren();
  }

  setView(view) {
    this.container.dataset.view = view;
  }

  render(result) {
    this.clear();
    this.result = result;
    const segments = result.segments || [];
    const text = (result.text || "").trim();
    if (!text && segments.length === 0) {
      const empty = document.createElement("p");
      empty.className = "transcript-empty";
      empty.textContent = "No speech was recognised in this audio. Try again closer to the microphone, or check the input level while you record.";
      this.container.append(empty);
      return;
    }

    const list = document.createElement("ol");
    list.className = "segments";
    segments.forEach((segment, index) => {
      const row = document.createElement("li");
      row.className = "segment";
      row.dataset.index = String(index);
      row.dataset.start = String(segment.start);

      const time = document.createElement("button");
      time.type = "button";
      time.className = "segment-time";
      time.textContent = formatClock(segment.start);
      time.setAttribute("aria-label", `Play from ${formatClock(segment.start)}`);

      const words = document.createElement("span");
      words.className = "segment-text";
      words.textContent = segment.text;

      row.append(time, words);
      list.append(row);
      this.rows.push(row);
    });

    const plain = document.createElement("div");
    plain.className = "plain-text";
    plain.textContent = text || segments.map((s) => s.text).join(" ");

    this.container.append(list, plain);
  }

  onClick(event) {
    const row = event.target.closest?.(".segment");
    if (!row || !this.result) return;
    // Let people select text in a segment without jumping around.
    const selection = window.getSelection?.();
    if (selection && !selection.isCollapsed && !event.target.closest(".segment-time")) return;
    const segment = this.result.segments[Number(row.dataset.index)];
    if (segment) playFrom(this.audio, segment.start);
  }

  follow() {
    if (!this.result || this.rows.length === 0) return;
    const t = this.audio.currentTime;
    const segments = this.result.segments;
    let index = -1;
    for (let i = 0; i < segments.length; i++) {
      if (t >= segments[i].start && (t < segments[i].end || i === segments.length - 1 || t < segments[i + 1].start)) {
        index = i;
        break;
      }
    }
    if (this.audio.paused && this.audio.currentTime === 0) index = -1;
    if (index === this.current) return;
    this.rows[this.current]?.classList.remove("current");
    this.current = index;
    this.rows[index]?.classList.add("current");
  }
}
