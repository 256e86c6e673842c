// The microphone level meter: a row of bars on a canvas, newest on the right.

const HISTORY = 200;
const BAR_WIDTH = 4;
const GAP = 3;
const STEP_MS = 60; // one bar per 60 ms keeps the meter readable

/** `meter` is the role="meter" element (its aria-valuenow and colours), `canvas` the drawing. */
export function createMeter({ meter, canvas }) {
  let levels = [];
  let colors = null;
  let peak = 0;
  let pushed = 0;
  let announced = 0;

  function draw() {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    if (!colors) {
      const style = getComputedStyle(meter);
      colors = { on: style.getPropertyValue("--meter-on").trim(), off: style.getPropertyValue("--meter-off").trim() };
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const bars = Math.max(8, Math.floor((width + GAP) / (BAR_WIDTH + GAP)));
    for (let i = 0; i < bars; i++) {
      const level = levels[levels.length - bars + i] ?? 0;
      const barHeight = Math.max(3, level * height);
      ctx.fillStyle = level > 0.02 ? colors.on : colors.off;
      const x = i * (BAR_WIDTH + GAP);
      const y = (height - barHeight) / 2;
      ctx.beginPath();
      if (ctx.roundRect) ctx.roundRect(x, y, BAR_WIDTH, barHeight, Math.min(BAR_WIDTH / 2, 2));
      else ctx.rect(x, y, BAR_WIDTH, barHeight);
      ctx.fill();
    }
  }

  /** Called every animation frame with the input level (0…1). */
  function push(level) {
    const now = performance.now();
    peak = Math.max(peak, level);
    if (now - pushed < STEP_MS && level > 0) return;
    pushed = now;
    levels.push(peak);
    peak = 0;
    if (levels.length > HISTORY * 2) levels.splice(0, levels.length - HISTORY);
    draw();
    if (now - announced > 500) {
      announced = now;
      meter.setAttribute("aria-valuenow", String(Math.round(level * 100)));
    }
  }

  function reset() {
    levels = [];
  }

  matchMedia("(prefers-color-scheme: dark)").addEventListener?.("change", () => {
    colors = null;
    draw();
  });
  window.addEventListener("resize", draw);

  return { push, reset, draw };
}
