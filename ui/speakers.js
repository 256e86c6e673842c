// Who said what in a transcript the server keeps: naming speakers, merging two, giving a
// segment to another speaker, labelling speakers afterwards, each sent at once and the item's
// transcript replaced by the server's answer. No DOM: node tests drive it with a stubbed API.
import { createEdits } from "./edits.js";

/** How many colours speakers cycle through (css/speakers.css has one class per colour). */
export const COLOURS = 8;

/** The colour class of speaker number `speaker` (1, 2, …). */
export const colourOf = (speaker) => `speaker-colour-${(Number(speaker) - 1 + COLOURS) % COLOURS}`;

/** The speakers of a transcript in order of first appearance: [{number, name}]. */
export function speakerList(result) {
  const names = result?.speakers || {};
  const seen = new Set();
  const list = [];
  for (const segment of result?.segments || []) {
    const number = segment.speaker;
    if (number == null || seen.has(number)) continue;
    seen.add(number);
    list.push({ number, name: names[number] || `Speaker ${number}` });
  }
  return list;
}

/** Whether segment `index` starts a turn: it has a speaker and the one before has another. */
export function startsTurn(segments, index) {
  const speaker = segments[index]?.speaker;
  return speaker != null && (index === 0 || segments[index - 1].speaker !== speaker);
}

/** The number a new speaker gets: one more than any speaker in the transcript (merged ones too). */
export function newSpeakerNumber(result) {
  const numbers = [
    ...(result?.segments || []).flatMap((s) => [s.speaker, s.original_speaker]),
    ...Object.keys(result?.merged || {}),
  ]
    .map(Number)
    .filter((n) => Number.isFinite(n) && n > 0);
  return numbers.length ? Math.max(...numbers) + 1 : 1;
}

/** The transcript as text in turns, `Name: …` (plain text when it has no speakers): what Copy copies. */
export function turnsText(result) {
  const segments = result?.segments || [];
  if (!segments.some((s) => s.speaker != null)) return result?.text || "";
  const names = Object.fromEntries(speakerList(result).map((s) => [s.number, s.name]));
  const turns = [];
  segments.forEach((segment, index) => {
    if (startsTurn(segments, index) || turns.length === 0) turns.push([names[segment.speaker], [segment.text]]);
    else turns[turns.length - 1][1].push(segment.text);
  });
  return turns.map(([name, texts]) => (name ? `${name}: ${texts.join(" ")}` : texts.join(" "))).join("\n\n");
}

/**
 * `api`: the functions of api.js this needs (renameSpeaker, mergeSpeaker, unmergeSpeaker,
 * moveSegment, unmoveSegment, labelSpeakers). `events`: changed(item) once the item shows the
 * server's answer (or, after a failure, what it showed), error(error) when a request failed.
 */
export function createSpeakers({ api, events = {} }) {
  const emit = (name, ...args) => events[name]?.(...args);
  const send = createEdits(emit);

  return {
    /** Name speaker `speaker` (an empty name: "Speaker N" again). */
    rename: (item, speaker, name) =>
      send(item, () =>
        name.trim() ? api.renameSpeaker(item.jobId, speaker, name.trim()) : api.unnameSpeaker(item.jobId, speaker),
      ),
    /** Give every segment of `speaker` to `into`. */
    merge: (item, speaker, into) => send(item, () => api.mergeSpeaker(item.jobId, speaker, into)),
    /** Undo the merge of `speaker`. */
    unmerge: (item, speaker) => send(item, () => api.unmergeSpeaker(item.jobId, speaker)),
    /** Give segment `index` to `speaker` (the labeller's speaker again: undo the move). */
    move: (item, index, speaker) => {
      const segment = item.result?.segments?.[index];
      const back = segment?.original_speaker != null && segment.original_speaker === speaker;
      return send(item, () => (back ? api.unmoveSegment(item.jobId, index) : api.moveSegment(item.jobId, index, speaker)));
    },
    /** Label the speakers of the stored transcript: `speakers` "auto" or a number. */
    label: (item, speakers) => send(item, () => api.labelSpeakers(item.jobId, speakers)),
  };
}
