// An AudioWorklet that turns the microphone into 16 kHz mono 16-bit PCM for live transcription.
//
// MediaRecorder's chunks are not independently decodable, so the live socket gets raw samples
// from here instead; MediaRecorder still records the whole file. Each block the audio thread
// hands us (128 frames) is averaged down to 16 kHz (a box filter over each output sample's span:
// enough against aliasing for speech at 48 kHz) and posted in ~100 ms packets.

/* global sampleRate, AudioWorkletProcessor, registerProcessor */

const TARGET_RATE = 16000;
const PACKET = TARGET_RATE / 10;

class PcmProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE; // input frames per output sample
    this.position = 0; // where the next output sample starts, in input frames from this block's start
    this.sum = 0;
    this.count = 0;
    this.packet = new Int16Array(PACKET);
    this.filled = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const frames = channels[0].length;
    for (let i = 0; i < frames; i++) {
      let value = 0;
      for (const channel of channels) value += channel[i];
      this.sum += value / channels.length;
      this.count += 1;
      if (i + 1 >= this.position + this.step) {
        this.emit(this.sum / this.count);
        this.sum = 0;
        this.count = 0;
        this.position += this.step;
      }
    }
    this.position -= frames;
    return true;
  }

  emit(sample) {
    this.packet[this.filled++] = Math.max(-32768, Math.min(32767, Math.round(sample * 32768)));
    if (this.filled === PACKET) {
      this.port.postMessage(this.packet.buffer, [this.packet.buffer]);
      this.packet = new Int16Array(PACKET);
      this.filled = 0;
    }
  }
}

registerProcessor("hush-pcm", PcmProcessor);
