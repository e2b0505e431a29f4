// Shared page helpers: token login, authenticated fetch, language.
export const params = new URLSearchParams(location.search);

export function loadToken() {
  const frag = new URLSearchParams(location.hash.slice(1)).get("token");
  if (frag) sessionStorage.setItem("citywall.token", frag);
  return frag || sessionStorage.getItem("citywall.token");
}

export function saveToken(token) { sessionStorage.setItem("citywall.token", token); }
export function clearToken() { sessionStorage.removeItem("citywall.token"); }

export function makeI18n(texts) {
  const state = { lang: params.get("lang") || localStorage.getItem("citywall.lang") || "zh" };
  const t = (key) => (texts[state.lang] || texts.zh)[key] ?? key;
  const apply = () => {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  };
  const toggle = () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("citywall.lang", state.lang);
    apply();
  };
  return { state, t, apply, toggle };
}

export class ApiError extends Error {
  constructor(message, status, body) { super(message); this.status = status; this.body = body; }
}

export async function api(token, path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${token}` }, options.headers || {});
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options = Object.assign({}, options, { body: JSON.stringify(options.json) });
  }
  const res = await fetch(path, Object.assign({}, options, { headers }));
  const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
  if (!res.ok) throw new ApiError(body?.message || res.statusText, res.status, body);
  return body;
}

export function wsUrl(path, token) {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const sep = path.includes("?") ? "&" : "?";
  return `${proto}://${location.host}${path}${sep}access_token=${encodeURIComponent(token)}`;
}

// Camera health by id, kept current from the event WebSocket.
export function watchCameraHealth(token, onChange) {
  const health = new Map();
  let ws = null;
  let stopped = false;
  const connect = () => {
    ws = new WebSocket(wsUrl("/api/v1/ws", token));
    ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", topics: ["camera.*"] }));
    ws.onmessage = (msg) => {
      const ev = JSON.parse(msg.data);
      if (ev.type !== "event" || ev.topic !== "camera.health") return;
      health.set(`${ev.data.camera_id}/${ev.data.stream}`, ev.data);
      onChange(ev.data);
    };
    ws.onclose = () => { if (!stopped) setTimeout(connect, 2000); };
  };
  connect();
  return { health, stop() { stopped = true; ws?.close(); } };
}
