// The model's state, from polling GET /api/health: often while it loads or the server is
// away, rarely once it is ready.

/**
 * `api`: the function of api.js this needs (getHealth). Returns {model, poll}. `model` is the
 * live state every other module reads; `poll()` asks now (one request at a time) and calls
 * `onUpdate(model, {languagesChanged})`.
 */
export function createHealth({ api, onUpdate }) {
  const model = {
    reachable: null,
    state: "unknown",
    detail: "",
    id: "",
    languages: [],
    version: "",
    maxUploadBytes: 0,
    engine: "This computer", // where work goes, in words
    remote: false, // a server transcribes: audio leaves this computer
    desktop: false, // the window app's controls (/api/desktop) are there
  };
  let timer = 0;
  let inFlight = null;

  async function check() {
    let languagesChanged = false;
    try {
      const health = await api.getHealth();
      model.reachable = true;
      model.state = health.model?.state || "unknown";
      model.detail = health.model?.detail || "";
      model.id = health.model?.id || "";
      model.version = health.version || "";
      model.maxUploadBytes = health.max_upload_bytes || 0;
      model.engine = health.engine || "This computer";
      model.remote = Boolean(health.remote);
      model.desktop = Boolean(health.desktop);
      const languages = health.model?.languages || [];
      if (languages.join() !== model.languages.join()) {
        model.languages = languages;
        languagesChanged = true;
      }
    } catch {
      model.reachable = false;
    }
    onUpdate(model, { languagesChanged });
    const delay = model.reachable === false ? 3000 : model.state === "ready" ? 15000 : 2000;
    timer = setTimeout(poll, delay);
  }

  async function poll() {
    if (inFlight) return inFlight;
    clearTimeout(timer);
    inFlight = check();
    try {
      await inFlight;
    } finally {
      inFlight = null;
    }
  }

  return { model, poll };
}
