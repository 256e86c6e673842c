// Showing a transcript: its segments and words in time with the audio player, and correcting them.

import { openEditor } from "./editor.js";
import { formatClock } from "./format.js";
import { isUnsure, wordAt, wordRuns } from "./words.js";

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
 * Renders a transcription result into `container` (data-testid="transcript"): one row per
 * segment with its start time and its words (click one to play from it; the word being
 * spoken is highlighted, the ones the model was unsure of are underlined), or the plain text.
 * A stored transcript's segment text can be corrected in place: Tab to it, Enter or E (or a
 * double-click) opens it, Enter saves, Escape cancels. `actions`: correct(index, text) and
 * revert(index), which save through the server and render its answer.
 */
export class TranscriptView {
  constructor(container, audio, actions = {}) {
    this.container = container;
    this.audio = audio;
    this.actions = actions;
    this.result = null;
    this.rows = [];
    this.words = []; // every word of the transcript in time order, with its element: {start, end, element}
    this.current = -1;
    this.currentWord = -1;
    this.editing = false; // whether a segment's text box is open
    this.waiting = null; // a result that arrived while a segment was being edited
    this.frame = 0;
    audio.addEventListener("timeupdate", () => this.follow());
    audio.addEventListener("seeked", () => this.follow());
    audio.addEventListener("play", () => this.animate());
    container.addEventListener("click", (event) => this.onClick(event));
    container.addEventListener("dblclick", (event) => this.onDoubleClick(event));
    container.addEventListener("keydown", (event) => this.onKey(event));
  }

  clear() {
    this.result = null;
    this.rows = [];
    this.words = [];
    this.current = -1;
    this.currentWord = -1;
    this.editing = false;
    this.waiting = null;
    this.container.replaceChildren();
  }

  setView(view) {
    this.container.dataset.view = view;
  }

  /** Whether segments can be corrected: a transcript the server keeps, and someone to save it. */
  get editable() {
    return Boolean(this.result?.id && this.actions.correct);
  }

  /** Draw `result`; `focus`: the segment whose text takes the focus (by default the one that had it). */
  render(result, focus = this.focusedSegment()) {
    if (this.editing && this.result?.id === result?.id) {
      this.waiting = result; // drawn when the text box closes: never under a person's typing
      return;
    }
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
      const row = this.row(segment, index);
      list.append(row);
      this.rows.push(row);
    });

    const plain = document.createElement("div");
    plain.className = "plain-text";
    plain.textContent = text || segments.map((s) => s.text).join(" ");

    this.container.append(this.hint(segments), list, plain);
    if (focus >= 0) this.rows[focus]?.querySelector(".segment-text")?.focus({ preventScroll: true });
    this.follow();
  }

  row(segment, index) {
    const row = document.createElement("li");
    row.className = "segment";
    row.dataset.index = String(index);
    row.dataset.start = String(segment.start);
    row.classList.toggle("corrected", segment.original != null);

    const time = document.createElement("button");
    time.type = "button";
    time.className = "segment-time";
    time.textContent = formatClock(segment.start);
    time.setAttribute("aria-label", `Play from ${formatClock(segment.start)}`);

    const words = document.createElement("span");
    words.className = "segment-text";
    this.fillText(words, segment);
    row.append(time, words);

    if (this.editable) {
      words.tabIndex = 0;
      words.setAttribute("aria-describedby", "edit-hint");
      const edit = document.createElement("button");
      edit.type = "button";
      edit.className = "segment-edit";
      edit.tabIndex = -1; // keyboard: Enter on the text
      edit.textContent = "Edit";
      edit.setAttribute("aria-label", `Correct the segment at ${formatClock(segment.start)}`);
      row.append(edit);
    }
    if (segment.original != null) {
      const revert = document.createElement("button");
      revert.type = "button";
      revert.className = "segment-revert";
      revert.textContent = "Edited · Revert";
      revert.title = `The model wrote: ${segment.original}`;
      revert.setAttribute("aria-label", `Revert to the model's text: ${segment.original}`);
      row.append(revert);
    }
    return row;
  }

  /** The segment's text into `host`: each word a span (in time, clickable), the spaces between as text. */
  fillText(host, segment) {
    const corrected = segment.original != null;
    for (const run of wordRuns(segment.text, segment.words || [])) {
      if (run.word < 0) {
        host.append(run.text);
        continue;
      }
      const word = segment.words[run.word];
      const span = document.createElement("span");
      span.className = "word";
      span.textContent = run.text;
      span.dataset.word = String(this.words.length);
      if (isUnsure(word, corrected)) {
        span.classList.add("unsure");
        span.title = "The model was unsure of this word";
      }
      this.words.push({ start: word.start, end: word.end, element: span });
      host.append(span);
    }
  }

  hint(segments) {
    const hint = document.createElement("p");
    hint.id = "edit-hint";
    hint.className = "transcript-hint";
    const timed = segments.some((segment) => segment.words?.length);
    const parts = [timed ? "Click a word to play from it." : "Click a segment to play from it."];
    if (this.editable) parts.push("To correct a segment, double-click it, or press Enter or E on it; Enter saves, Escape cancels.");
    hint.textContent = parts.join(" ");
    return hint;
  }

  focusedSegment() {
    const row = document.activeElement?.closest?.(".segment");
    return row && this.container.contains(row) ? Number(row.dataset.index) : -1;
  }

  // -- playing ------------------------------------------------------------------------------
  onClick(event) {
    if (!this.result || event.target.closest?.(".segment-editor")) return;
    const row = event.target.closest?.(".segment");
    if (!row) return;
    const index = Number(row.dataset.index);
    if (event.target.closest(".segment-edit")) {
      this.edit(index);
      return;
    }
    if (event.target.closest(".segment-revert")) {
      this.actions.revert?.(index);
      return;
    }
    // Let people select text in a segment without jumping around.
    const selection = window.getSelection?.();
    if (selection && !selection.isCollapsed && !event.target.closest(".segment-time")) return;
    const word = event.target.closest(".word");
    const segment = this.result.segments[index];
    if (word) playFrom(this.audio, this.words[Number(word.dataset.word)].start);
    else if (segment) playFrom(this.audio, segment.start);
  }

  /** While the audio plays, follow it every frame: timeupdate alone comes 4 times a second. */
  animate() {
    cancelAnimationFrame(this.frame);
    const step = () => {
      this.follow();
      if (!this.audio.paused && !this.audio.ended) this.frame = requestAnimationFrame(step);
    };
    this.frame = requestAnimationFrame(step);
  }

  follow() {
    if (!this.result || this.rows.length === 0) return;
    const t = this.audio.currentTime;
    const untouched = this.audio.paused && t === 0;
    const segments = this.result.segments;
    let index = -1;
    for (let i = 0; i < segments.length && !untouched; i++) {
      if (t >= segments[i].start && (t < segments[i].end || i === segments.length - 1 || t < segments[i + 1].start)) {
        index = i;
        break;
      }
    }
    if (index !== this.current) {
      this.rows[this.current]?.classList.remove("current");
      this.current = index;
      this.rows[index]?.classList.add("current");
    }
    const word = untouched ? -1 : wordAt(this.words, t);
    if (word !== this.currentWord) {
      this.words[this.currentWord]?.element.classList.remove("current");
      this.currentWord = word;
      this.words[word]?.element.classList.add("current");
    }
  }

  // -- correcting -----------------------------------------------------------------------------
  onDoubleClick(event) {
    const row = event.target.closest?.(".segment");
    if (!row || !event.target.closest(".segment-text") || event.target.closest(".segment-editor")) return;
    window.getSelection?.()?.removeAllRanges();
    this.edit(Number(row.dataset.index));
  }

  onKey(event) {
    const text = event.target.closest?.(".segment-text");
    if (!text || event.target !== text || event.ctrlKey || event.metaKey || event.altKey) return;
    const index = Number(text.closest(".segment").dataset.index);
    if (event.key === "Enter" || event.key === "e" || event.key === "E") {
      event.preventDefault();
      this.edit(index);
    } else if (event.key === " ") {
      event.preventDefault(); // Space plays from here, instead of starting a recording
      playFrom(this.audio, this.result.segments[index].start);
    }
  }

  /** Open segment `index`'s text box; Enter saves through `actions.correct`, Escape restores it. */
  edit(index) {
    const segment = this.result?.segments?.[index];
    const host = this.rows[index]?.querySelector(".segment-text");
    if (!this.editable || !segment || !host || this.editing) return;
    this.editing = true;
    this.rows[index].classList.add("editing");
    const transcript = this.result.id;
    openEditor(host, segment.text, {
      label: `Correct the segment at ${formatClock(segment.start)}`,
      // A box closed because another transcript was drawn over it saves nothing into that one.
      done: (outcome) => this.result?.id === transcript && this.closeEditor(index, outcome),
    });
  }

  /** Draw the transcript again after the text box closed: with the saved text shown at once (the
   * server's answer brings its words), or as it was; the segment keeps the focus where keys closed it. */
  closeEditor(index, outcome) {
    this.editing = false;
    let result = this.waiting || this.result;
    this.waiting = null;
    if (outcome.save) {
      this.actions.correct(index, outcome.save);
      const segments = result.segments.map((s, i) => (i === index ? { ...s, text: outcome.save, words: [] } : s));
      result = { ...result, segments };
    }
    this.render(result, outcome.keyboard ? index : -1);
    if (outcome.save) this.rows[index]?.classList.add("saving");
  }
}
