// Speakers on the page: the bar above a transcript (each speaker's coloured name, to rename or
// merge; speakers merged away, to undo; "Label speakers" for a transcript without them) and the
// coloured name at the start of each turn (click it, or press S on a segment, to give that
// segment to another speaker). Saving is the caller's (`actions`, through speakers.js).

import { colourOf, newSpeakerNumber, speakerList, startsTurn } from "./speakers.js";

/** How many speakers "Label speakers" may be told (or auto). */
export const COUNTS = ["auto", "2", "3", "4", "5", "6"];

/**
 * `actions`: rename(speaker, name), merge(speaker, into), unmerge(speaker), move(index, speaker),
 * label(speakers). `editing(open)` says when a box opens and closes: the transcript is not drawn
 * again under a person's typing.
 */
export function createSpeakersView({ actions = {}, editing = () => {} }) {
  /** The bar above the transcript; `editable`: the server keeps it (names can be saved). */
  function bar(result, editable) {
    const node = document.createElement("div");
    node.className = "speakers-bar";
    const speakers = speakerList(result);
    if (speakers.length === 0) {
      if (editable && actions.label) node.append(...labelControls());
      return node.childElementCount ? node : null;
    }
    node.setAttribute("role", "group");
    node.setAttribute("aria-label", "Speakers");
    for (const speaker of speakers) node.append(chip(speaker, speakers, editable));
    const names = Object.fromEntries(speakers.map((s) => [s.number, s.name]));
    for (const [from, into] of Object.entries(result.merged || {})) {
      if (!editable) break;
      const undo = document.createElement("button");
      undo.type = "button";
      undo.className = "button button-ghost speaker-unmerge";
      undo.textContent = `Speaker ${from} merged into ${names[into] || `Speaker ${into}`} · Undo`;
      undo.addEventListener("click", () => actions.unmerge(Number(from)));
      node.append(undo);
    }
    return node;
  }

  function labelControls() {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button-secondary speakers-label";
    button.textContent = "Label speakers";
    const count = document.createElement("select");
    count.className = "speakers-count";
    count.setAttribute("aria-label", "How many speakers");
    for (const value of COUNTS) count.append(new Option(value === "auto" ? "How many: auto" : `${value} speakers`, value));
    button.addEventListener("click", () => {
      button.disabled = true;
      button.textContent = "Labelling speakers…";
      actions.label(count.value === "auto" ? "auto" : Number(count.value));
    });
    return [button, count];
  }

  function chip({ number, name }, speakers, editable) {
    const node = document.createElement("span");
    node.className = `speaker-chip ${colourOf(number)}`;
    node.dataset.speaker = String(number);
    const label = document.createElement("button");
    label.type = "button";
    label.className = "speaker-name";
    label.textContent = name;
    node.append(label);
    if (!editable) {
      label.disabled = true;
      return node;
    }
    label.setAttribute("aria-label", `Rename ${name}`);
    label.title = "Rename (in every segment of theirs)";
    label.addEventListener("click", () => rename(node, label, number, name));
    const others = speakers.filter((s) => s.number !== number);
    if (others.length) {
      const merge = document.createElement("select");
      merge.className = "speaker-merge";
      merge.setAttribute("aria-label", `Merge ${name} into another speaker`);
      merge.append(new Option("Merge into…", ""));
      for (const other of others) merge.append(new Option(other.name, String(other.number)));
      merge.addEventListener("change", () => merge.value && actions.merge(number, Number(merge.value)));
      node.append(merge);
    }
    return node;
  }

  /** A text box over the name: Enter saves (empty: "Speaker N" again), Escape or leaving cancels. */
  function rename(node, label, number, name) {
    const box = document.createElement("input");
    box.type = "text";
    box.className = "speaker-rename";
    box.value = name;
    box.maxLength = 80;
    box.setAttribute("aria-label", `New name for ${name}; Enter saves, Escape cancels`);
    let closed = false;
    const close = (save) => {
      if (closed) return;
      closed = true;
      box.replaceWith(label);
      editing(false);
      if (save && box.value.trim() !== name) actions.rename(number, box.value);
      else label.focus();
    };
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        close(true);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        close(false);
      }
    });
    box.addEventListener("blur", () => close(false));
    editing(true);
    label.replaceWith(box);
    box.focus();
    box.select();
    node.dataset.renaming = "true";
  }

  /** The speaker's name before segment `index` (its colour bar when it continues a turn), or null. */
  function label(result, index) {
    const segments = result?.segments || [];
    const segment = segments[index];
    if (segment?.speaker == null) return null;
    const speakers = speakerList(result);
    const name = speakers.find((s) => s.number === segment.speaker)?.name || `Speaker ${segment.speaker}`;
    const node = document.createElement("button");
    node.type = "button";
    node.className = `segment-speaker ${colourOf(segment.speaker)}`;
    node.dataset.speaker = String(segment.speaker);
    node.textContent = name;
    node.setAttribute("aria-label", `${name} speaks here; choose who speaks this segment`);
    if (!startsTurn(segments, index)) {
      node.classList.add("continued");
      node.tabIndex = -1; // keyboard: S on the segment
    }
    if (segment.original_speaker != null) node.title = `Moved here by you; the labeller heard Speaker ${segment.original_speaker}`;
    return node;
  }

  /** A list of speakers over the segment's name: choosing one gives it the segment, Escape cancels. */
  function openMove(host, result, index) {
    const segment = result?.segments?.[index];
    if (!host || segment?.speaker == null) return;
    const choose = document.createElement("select");
    choose.className = `segment-speaker-choice ${colourOf(segment.speaker)}`;
    choose.setAttribute("aria-label", "Who speaks this segment");
    for (const speaker of speakerList(result)) choose.append(new Option(speaker.name, String(speaker.number)));
    const fresh = newSpeakerNumber(result);
    choose.append(new Option(`New speaker (Speaker ${fresh})`, String(fresh)));
    choose.value = String(segment.speaker);
    let closed = false;
    const close = (save) => {
      if (closed) return;
      closed = true;
      choose.replaceWith(host);
      editing(false);
      if (save && Number(choose.value) !== segment.speaker) actions.move(index, Number(choose.value));
      else host.focus();
    };
    choose.addEventListener("change", () => close(true));
    choose.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        close(false);
      } else if (event.key === "Enter") {
        event.preventDefault();
        close(true);
      }
    });
    choose.addEventListener("blur", () => close(false));
    editing(true);
    host.replaceWith(choose);
    choose.focus();
  }

  return { bar, label, openMove };
}
