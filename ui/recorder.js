// Microphone capture: device list, getUserMedia, MediaRecorder and the live input level.

/** Recording formats in order of preference, with the file extension the server sees. */
const FORMATS = [
  ["audio/webm;codecs=opus", "webm"], // Chromium, QtWebEngine, Firefox
  ["audio/ogg;codecs=opus", "ogg"], // Firefox
  ["audio/mp4;codecs=mp4a.40.2", "m4a"], // WebKit (Safari, WKWebView)
  ["audio/mp4", "m4a"],
  ["audio/webm", "webm"],
  ["audio/ogg", "ogg"],
];

/** Why the microphone could not be used; `kind` picks the explanation shown to the person. */
export class MicrophoneError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = "MicrophoneError";
    this.kind = kind; // denied | not-found | busy | device-gone | unsupported | insecure | failed
  }
}

export function recordingSupported() {
  return Boolean(navigator.mediaDevices?.getUserMedia && window.MediaRecorder);
}

/** The best type this browser's MediaRecorder can write, and its file extension. */
export function pickFormat() {
  if (!window.MediaRecorder) return null;
  for (const [mimeType, extension] of FORMATS) {
    if (MediaRecorder.isTypeSupported(mimeType)) return { mimeType, extension };
  }
  return { mimeType: "", extension: "webm" }; // the browser's default
}

function extensionFor(mimeType, fallback) {
  const type = (mimeType || "").toLowerCase();
  if (type.includes("ogg")) return "ogg";
  if (type.includes("mp4") || type.includes("aac")) return "m4a";
  if (type.includes("webm")) return "webm";
  return fallback;
}

/** Audio inputs; labels are empty until the page has been allowed to use a microphone once. */
export async function listMicrophones() {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((d) => d.kind === "audioinput" && d.deviceId)
    .map((d, i) => ({ id: d.deviceId, label: d.label || `Microphone ${i + 1}` }));
}

/** "granted" | "denied" | "prompt" | "unknown", without asking the person. */
export async function microphonePermission() {
  try {
    const status = await navigator.permissions.query({ name: "microphone" });
    return status.state;
  } catch {
    return "unknown";
  }
}

function explain(error) {
  if (error instanceof MicrophoneError) return error;
  switch (error?.name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    case "SecurityError":
      return new MicrophoneError("denied", "Permission to use the microphone was denied.");
    case "NotFoundError":
    case "DevicesNotFoundError":
      return new MicrophoneError("not-found", "No microphone was found.");
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return new MicrophoneError("busy", "The microphone could not be started.");
    case "OverconstrainedError":
    case "ConstraintNotSatisfiedError":
      return new MicrophoneError("device-gone", "The chosen microphone is no longer available.");
    default:
      return new MicrophoneError("failed", `The microphone could not be started (${error?.message || error}).`);
  }
}

/**
 * One recording session: open() asks for the microphone, start() records,
 * stop() resolves with the recorded Blob. `onLevel(0…1)` follows the input level,
 * `onEnded()` fires when the device disappears mid-recording, `onPcm(ArrayBuffer)` gets the
 * audio as 16 kHz 16-bit PCM packets for live transcription (where AudioWorklet exists).
 */
export class Recorder {
  constructor({ onLevel = () => {}, onEnded = () => {}, onPcm = null } = {}) {
    this.onLevel = onLevel;
    this.onEnded = onEnded;
    this.onPcm = onPcm;
    this.source = null;
    this.stream = null;
    this.recorder = null;
    this.chunks = [];
    this.audioContext = null;
    this.frame = 0;
    this.startedAt = 0;
    this.format = null;
  }

  get elapsed() {
    return this.startedAt ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  /** Ask for the microphone; returns the id of the device actually used. */
  async open(deviceId = "") {
    if (!window.isSecureContext) {
      throw new MicrophoneError("insecure", "Browsers only allow microphones on secure (https or localhost) pages.");
    }
    if (!recordingSupported()) {
      throw new MicrophoneError("unsupported", "This browser cannot record audio.");
    }
    const audio = { echoCancellation: false, noiseSuppression: false, autoGainControl: true, channelCount: 1 };
    if (deviceId) audio.deviceId = { exact: deviceId };
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio });
    } catch (error) {
      throw explain(error);
    }
    const track = this.stream.getAudioTracks()[0];
    track.addEventListener("ended", () => this.onEnded());
    return track.getSettings?.().deviceId || deviceId;
  }

  /** Start recording; resolves once the recorder really runs (the timer starts there). */
  start() {
    this.format = pickFormat();
    const options = this.format.mimeType ? { mimeType: this.format.mimeType, audioBitsPerSecond: 64000 } : {};
    this.chunks = [];
    try {
      this.recorder = new MediaRecorder(this.stream, options);
    } catch (error) {
      this.release();
      throw explain(error);
    }
    this.recorder.addEventListener("dataavailable", (event) => {
      if (event.data && event.data.size > 0) this.chunks.push(event.data);
    });
    this.startMeter();
    if (this.onPcm) this.startPcm();
    return new Promise((resolve, reject) => {
      this.recorder.addEventListener(
        "start",
        () => {
          this.startedAt = performance.now();
          resolve();
        },
        { once: true },
      );
      this.recorder.addEventListener("error", (event) => reject(explain(event.error)), { once: true });
      // Chunks every second: a recording cut short still holds everything up to then.
      this.recorder.start(1000);
    });
  }

  /** Stop; resolves {blob, mimeType, extension, seconds}. */
  stop() {
    const recorder = this.recorder;
    const seconds = this.elapsed;
    if (!recorder || recorder.state === "inactive") {
      this.release();
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      recorder.addEventListener(
        "stop",
        () => {
          const mimeType = recorder.mimeType || this.format?.mimeType || "audio/webm";
          const blob = new Blob(this.chunks, { type: mimeType.split(";")[0] ? mimeType : "audio/webm" });
          const extension = extensionFor(mimeType, this.format?.extension || "webm");
          this.release();
          resolve({ blob, mimeType, extension, seconds });
        },
        { once: true },
      );
      recorder.stop();
    });
  }

  /** Stop everything without keeping the recording. */
  cancel() {
    if (this.recorder && this.recorder.state !== "inactive") {
      try {
        this.recorder.stop();
      } catch {
        // already stopped
      }
    }
    this.release();
  }

  release() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.audioContext?.close().catch(() => {});
    this.audioContext = null;
    this.source = null;
    this.startedAt = 0;
    this.onLevel(0);
  }

  startMeter() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || !this.stream) return;
    try {
      this.audioContext = new Context();
      this.source = this.audioContext.createMediaStreamSource(this.stream);
      const analyser = this.audioContext.createAnalyser();
      analyser.fftSize = 1024;
      this.source.connect(analyser);
      this.audioContext.resume().catch(() => {});
      const samples = new Float32Array(analyser.fftSize);
      const tick = () => {
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
        const rms = Math.sqrt(sum / samples.length);
        // -60 dBFS … 0 dBFS → 0 … 1
        const db = 20 * Math.log10(rms + 1e-9);
        this.onLevel(Math.min(1, Math.max(0, (db + 60) / 60)));
        this.frame = requestAnimationFrame(tick);
      };
      tick();
    } catch {
      // The meter is a nicety; recording works without it.
    }
  }

  /** Tap the microphone for live transcription; without AudioWorklet there is just no live text. */
  async startPcm() {
    const context = this.audioContext;
    if (!context?.audioWorklet || !this.source) return;
    try {
      await context.audioWorklet.addModule(new URL("./pcm-worklet.js", import.meta.url));
      if (context !== this.audioContext) return; // stopped meanwhile
      const node = new AudioWorkletNode(context, "hush-pcm");
      node.port.onmessage = (event) => this.onPcm?.(event.data);
      this.source.connect(node);
      const silent = context.createGain(); // the graph only runs nodes that lead to its output
      silent.gain.value = 0;
      node.connect(silent).connect(context.destination);
    } catch {
      // Live text is a preview; the recording does not depend on it.
    }
  }
}
