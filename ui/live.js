// Live transcription: the socket to /api/live and what it says, without the DOM.
//
//   status: off → connecting → live ⇄ paused → off
//
// The server sends all confirmed text so far (it only grows) and a tentative tail that may
// still change. If the socket drops while recording, what was confirmed stays, the page says
// live text is paused, and a new session continues after it once the socket is back; the
// recording itself (MediaRecorder) goes on undisturbed and is transcribed in full at Stop.

export const LIVE_PAUSED = "Live text is paused: the connection to Hush was lost. Your recording goes on.";

export function initialLive() {
  return { status: "off", earlier: "", confirmed: "", tentative: "", detail: "" };
}

const joined = (...parts) => parts.filter(Boolean).join(" ");

/** The state after `event`: a message from the server (update, paused, done) or from the page
 * (start, open, dropped, end). */
export function nextLive(state, event) {
  switch (event.type) {
    case "start":
      return { ...initialLive(), status: "connecting" };
    case "open":
      return { ...state, status: "live", detail: "" };
    case "update":
    case "done":
      return {
        ...state,
        status: event.type === "done" ? "off" : "live",
        confirmed: event.confirmed ?? state.confirmed,
        tentative: event.tentative ?? state.tentative,
        detail: "",
      };
    case "paused":
      return { ...state, status: "paused", detail: event.detail || "" };
    case "dropped":
      return {
        ...state,
        status: "paused",
        earlier: joined(state.earlier, state.confirmed),
        confirmed: "",
        tentative: "",
        detail: LIVE_PAUSED,
      };
    case "end":
      return { ...state, status: "off" };
    default:
      return state;
  }
}

/** What to show: every confirmed word (earlier sessions' first) and the tentative tail. */
export function liveText(state) {
  return { confirmed: joined(state.earlier, state.confirmed), tentative: state.tentative };
}

/** The live socket's address on this page's origin; the page's cookie carries the token. */
export function liveUrl({ language = "", task = "transcribe" } = {}, origin = globalThis.location?.origin) {
  const url = new URL("api/live", `${origin.replace(/^http/, "ws")}/`);
  if (language) url.searchParams.set("language", language);
  url.searchParams.set("task", task);
  return url.toString();
}

/**
 * One recording's live session. `onChange(state)` hears every change. `send(pcm)` takes 16 kHz
 * 16-bit PCM packets (ArrayBuffers) from the AudioWorklet; packets that arrive while the socket
 * (re)connects wait, up to `maxPendingBytes`.
 */
export function createLive({ onChange, Socket = globalThis.WebSocket, retryMs = 1500, maxPendingBytes = 960000 }) {
  let state = initialLive();
  let socket = null;
  let pending = [];
  let recording = false;
  let options = {};
  let finished = null;

  function set(event) {
    state = nextLive(state, event);
    onChange(state);
  }

  function connect() {
    const current = new Socket(liveUrl(options));
    socket = current;
    current.binaryType = "arraybuffer";
    current.onopen = () => {
      for (const packet of pending) current.send(packet);
      pending = [];
      set({ type: "open" });
    };
    current.onmessage = (event) => {
      const message = JSON.parse(event.data);
      set(message);
      if (message.type === "done") finished?.();
    };
    current.onclose = () => {
      if (socket !== current) return;
      socket = null;
      if (recording) {
        set({ type: "dropped" });
        setTimeout(() => recording && !socket && connect(), retryMs);
      } else {
        finished?.();
      }
    };
  }

  return {
    get state() {
      return state;
    },
    start(chosen) {
      options = chosen;
      recording = true;
      pending = [];
      set({ type: "start" });
      connect();
    },
    send(packet) {
      if (!recording) return;
      if (socket?.readyState === Socket.OPEN) {
        socket.send(packet);
        return;
      }
      pending.push(packet);
      let bytes = pending.reduce((sum, p) => sum + p.byteLength, 0);
      while (bytes > maxPendingBytes) bytes -= pending.shift().byteLength;
    },
    /** The recording went elsewhere (a dictation, transcribed in one pass): drop the socket without
     * asking for the last words, so no last live pass competes with the transcription. */
    close() {
      recording = false;
      const current = socket;
      socket = null;
      pending = [];
      current?.close();
      if (state.status !== "off") set({ type: "end" });
    },
    /** The recording ended: ask the server for its last words, wait for them (at most `timeoutMs`). */
    async stop(timeoutMs = 15000) {
      recording = false;
      const current = socket;
      if (current?.readyState === Socket.OPEN) {
        current.send(JSON.stringify({ type: "stop" }));
        let timer = 0;
        await new Promise((resolve) => {
          finished = resolve;
          timer = setTimeout(resolve, timeoutMs);
        });
        clearTimeout(timer);
      }
      finished = null;
      socket = null;
      current?.close();
      if (state.status !== "off") set({ type: "end" });
      return state;
    },
  };
}
