// Showing a transcript: its segments and words in time with the audio player, and correcting them.

import { openEditor } from "./editor.js";
import { formatClock } from "./format.js";
import { createSpeakersView } from "./speakers-view.js";
import { turnsText } from "./speakers.js";
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
 * double-click) opens it, Enter saves, Escape cancels. `audio` is the player; `actions`:
 * correct(index, text) and revert(index), which save through the server and render its answer.
 * Returns {render, clear, setView}.
 */
export function createTranscriptView({ container, audio, actions = {} }) {
  let result = null;
  let rows = [];
  let words = []; // every word of the transcript in time order, with its element: {start, end, element}
  let current = -1;
  let currentWord = -1;
  let editing = false; // whether a segment's text box is open
  let waiting = null; // a result that arrived while a segment was being edited
  let frame = 0;
  const speakersView = createSpeakersView({
    actions: {
      rename: (...args) => actions.rename?.(...args),
      merge: (...args) => actions.merge?.(...args),
      unmerge: (...args) => actions.unmerge?.(...args),
      move: (...args) => actions.move?.(...args),
      label: actions.label && ((...args) => actions.label(...args)),
    },
    editing: (open) => {
      editing = open;
      if (!open && waiting) {
        const next = waiting;
        waiting = null;
        queueMicrotask(() => !editing && render(next, -1));
      }
    },
  });

  function clear() {
    result = null;
    rows = [];
    words = [];
    current = -1;
    currentWord = -1;
    editing = false;
    waiting = null;
    container.replaceChildren();
  }

  function setView(view) {
    container.dataset.view = view;
  }

  /** Whether segments can be corrected: a transcript the server keeps, and someone to save it. */
  const editable = () => Boolean(result?.id && actions.correct);

  /** Draw `next`; `focus`: the segment whose text takes the focus (by default the one that had it). */
  function render(next, focus = focusedSegment()) {
    if (editing && result?.id === next?.id) {
      waiting = next; // drawn when the text box closes: never under a person's typing
      return;
    }
    clear();
    result = next;
    const segments = next.segments || [];
    const text = (next.text || "").trim();
    if (!text && segments.length === 0) {
      const empty = document.createElement("p");
      empty.className = "transcript-empty";
      empty.textContent = "No speech was recognised in this audio. Try again closer to the microphone, or check the input level while you record.";
      container.append(empty);
      return;
    }

    const list = document.createElement("ol");
    list.className = "segments";
    segments.forEach((segment, index) => {
      const item = row(segment, index);
      list.append(item);
      rows.push(item);
    });

    const plain = document.createElement("div");
    plain.className = "plain-text";
    plain.textContent = turnsText(next) || segments.map((s) => s.text).join(" ");

    const speakers = speakersView.bar(next, editable());
    container.append(...[hint(segments), speakers, list, plain].filter(Boolean));
    if (focus >= 0) rows[focus]?.querySelector(".segment-text")?.focus({ preventScroll: true });
    follow();
  }

  function row(segment, index) {
    const item = document.createElement("li");
    item.className = "segment";
    item.dataset.index = String(index);
    item.dataset.start = String(segment.start);
    item.classList.toggle("corrected", segment.original != null);

    const time = document.createElement("button");
    time.type = "button";
    time.className = "segment-time";
    time.textContent = formatClock(segment.start);
    time.setAttribute("aria-label", `Play from ${formatClock(segment.start)}`);

    const text = document.createElement("span");
    text.className = "segment-text";
    fillText(text, segment);
    item.append(time);
    const speaker = speakersView.label(result, index);
    if (speaker) {
      item.classList.add("spoken");
      if (!editable()) speaker.disabled = true;
      item.append(speaker);
    }
    item.append(text);

    if (editable()) {
      text.tabIndex = 0;
      text.setAttribute("aria-describedby", "edit-hint");
      const edit = document.createElement("button");
      edit.type = "button";
      edit.className = "segment-edit";
      edit.tabIndex = -1; // keyboard: Enter on the text
      edit.textContent = "Edit";
      edit.setAttribute("aria-label", `Correct the segment at ${formatClock(segment.start)}`);
      item.append(edit);
    }
    if (segment.original != null) {
      const revert = document.createElement("button");
      revert.type = "button";
      revert.className = "segment-revert";
      revert.textContent = "Edited · Revert";
      revert.title = `The model wrote: ${segment.original}`;
      revert.setAttribute("aria-label", `Revert to the model's text: ${segment.original}`);
      item.append(revert);
    }
    return item;
  }

  /** The segment's text into `host`: each word a span (in time, clickable), the spaces between as text. */
  function fillText(host, segment) {
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
      span.dataset.word = String(words.length);
      if (isUnsure(word, corrected)) {
        span.classList.add("unsure");
        span.title = "The model was unsure of this word";
      }
      words.push({ start: word.start, end: word.end, element: span });
      host.append(span);
    }
  }

  function hint(segments) {
    const node = document.createElement("p");
    node.id = "edit-hint";
    node.className = "transcript-hint";
    const timed = segments.some((segment) => segment.words?.length);
    const untimed = "Word timing is unavailable for this transcript: click a segment to play from it.";
    const parts = [timed ? "Click a word to play from it." : untimed];
    if (editable()) parts.push("To correct a segment, double-click it, or press Enter or E on it; Enter saves, Escape cancels.");
    if (editable() && segments.some((s) => s.speaker != null)) {
      parts.push("Click a name above to rename that speaker; click a segment's speaker, or press S on it, to give it to another.");
    }
    node.textContent = parts.join(" ");
    return node;
  }

  function focusedSegment() {
    const focused = document.activeElement?.closest?.(".segment");
    return focused && container.contains(focused) ? Number(focused.dataset.index) : -1;
  }

  // -- playing ------------------------------------------------------------------------------
  function onClick(event) {
    if (!result || event.target.closest?.(".segment-editor, .segment-speaker-choice")) return;
    const item = event.target.closest?.(".segment");
    if (!item) return;
    const index = Number(item.dataset.index);
    if (event.target.closest(".segment-edit")) {
      edit(index);
      return;
    }
    if (event.target.closest(".segment-revert")) {
      actions.revert?.(index);
      return;
    }
    const speaker = event.target.closest(".segment-speaker");
    if (speaker) {
      if (editable() && !editing) speakersView.openMove(speaker, result, index);
      return;
    }
    // Let people select text in a segment without jumping around.
    const selection = window.getSelection?.();
    if (selection && !selection.isCollapsed && !event.target.closest(".segment-time")) return;
    const word = event.target.closest(".word");
    const segment = result.segments[index];
    if (word) playFrom(audio, words[Number(word.dataset.word)].start);
    else if (segment) playFrom(audio, segment.start);
  }

  /** While the audio plays, follow it every frame: timeupdate alone comes 4 times a second. */
  function animate() {
    cancelAnimationFrame(frame);
    const step = () => {
      follow();
      if (!audio.paused && !audio.ended) frame = requestAnimationFrame(step);
    };
    frame = requestAnimationFrame(step);
  }

  function follow() {
    if (!result || rows.length === 0) return;
    const t = audio.currentTime;
    const untouched = audio.paused && t === 0;
    const segments = result.segments;
    let index = -1;
    for (let i = 0; i < segments.length && !untouched; i++) {
      if (t >= segments[i].start && (t < segments[i].end || i === segments.length - 1 || t < segments[i + 1].start)) {
        index = i;
        break;
      }
    }
    if (index !== current) {
      rows[current]?.classList.remove("current");
      current = index;
      rows[index]?.classList.add("current");
    }
    const word = untouched ? -1 : wordAt(words, t);
    if (word !== currentWord) {
      words[currentWord]?.element.classList.remove("current");
      currentWord = word;
      words[word]?.element.classList.add("current");
    }
  }

  // -- correcting -----------------------------------------------------------------------------
  function onDoubleClick(event) {
    const item = event.target.closest?.(".segment");
    if (!item || !event.target.closest(".segment-text") || event.target.closest(".segment-editor")) return;
    window.getSelection?.()?.removeAllRanges();
    edit(Number(item.dataset.index));
  }

  function onKey(event) {
    const text = event.target.closest?.(".segment-text");
    if (!text || event.target !== text || event.ctrlKey || event.metaKey || event.altKey) return;
    const index = Number(text.closest(".segment").dataset.index);
    if (event.key === "Enter" || event.key === "e" || event.key === "E") {
      event.preventDefault();
      edit(index);
    } else if ((event.key === "s" || event.key === "S") && editable() && !editing) {
      const speaker = rows[index]?.querySelector(".segment-speaker");
      if (speaker) {
        event.preventDefault();
        speakersView.openMove(speaker, result, index);
      }
    } else if (event.key === " ") {
      event.preventDefault(); // Space plays from here, instead of starting a recording
      playFrom(audio, result.segments[index].start);
    }
  }

  /** Open segment `index`'s text box; Enter saves through `actions.correct`, Escape restores it. */
  function edit(index) {
    const segment = result?.segments?.[index];
    const host = rows[index]?.querySelector(".segment-text");
    if (!editable() || !segment || !host || editing) return;
    editing = true;
    rows[index].classList.add("editing");
    const transcript = result.id;
    openEditor(host, segment.text, {
      label: `Correct the segment at ${formatClock(segment.start)}`,
      // A box closed because another transcript was drawn over it saves nothing into that one.
      done: (outcome) => result?.id === transcript && closeEditor(index, outcome),
    });
  }

  /** Draw the transcript again after the text box closed: with the saved text shown at once (the
   * server's answer brings its words), or as it was; the segment keeps the focus where keys closed it. */
  function closeEditor(index, outcome) {
    editing = false;
    let next = waiting || result;
    waiting = null;
    if (outcome.save) {
      actions.correct(index, outcome.save);
      const segments = next.segments.map((s, i) => (i === index ? { ...s, text: outcome.save, words: [] } : s));
      next = { ...next, segments };
    }
    render(next, outcome.keyboard ? index : -1);
    if (outcome.save) rows[index]?.classList.add("saving");
  }

  audio.addEventListener("timeupdate", follow);
  audio.addEventListener("seeked", follow);
  audio.addEventListener("play", animate);
  container.addEventListener("click", onClick);
  container.addEventListener("dblclick", onDoubleClick);
  container.addEventListener("keydown", onKey);

  return { render, clear, setView };
}
