// Live view page: log in with a token, list cameras, play each over WebRTC.
// Plain ES module, no CDN: everything is served by the service.
import { startLiveView } from "/static/webrtc.js";
const TEXT = {
  zh: { title: "实时视频", token: "访问令牌", login: "登录", logout: "退出",
        live: "在线", connecting: "连接中", idle: "待机", offline: "信号中断", stalled: "卡顿",
        unsupported_codec: "编码不支持", error: "错误", badToken: "令牌无效", lang: "English" },
  en: { title: "Live video", token: "Access token", login: "Log in", logout: "Log out",
        live: "live", connecting: "connecting", idle: "idle", offline: "signal lost", stalled: "stalled",
        unsupported_codec: "unsupported codec", error: "error", badToken: "invalid token", lang: "中文" },
};
const state = { lang: localStorage.getItem("citywall.lang") || "zh", token: null, tiles: new Map(), ws: null };
window.citywall = state;  // inspected by the browser tests
const params = new URLSearchParams(location.search);
const t = (key) => (TEXT[state.lang] || TEXT.zh)[key] || key;

function applyLang() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.getElementById("lang").textContent = t("lang");
  for (const tile of state.tiles.values()) renderState(tile);
}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${state.token}` }, options.headers || {});
  const res = await fetch(path, Object.assign({}, options, { headers }));
  if (res.status === 401) throw Object.assign(new Error(t("badToken")), { status: 401 });
  const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
  if (!res.ok) throw Object.assign(new Error(body?.message || res.statusText), { body, status: res.status });
  return body;
}

function showLogin(message = "") {
  document.getElementById("login").hidden = false;
  document.getElementById("logout").hidden = true;
  document.getElementById("login-error").textContent = message;
}

function renderState(tile) {
  tile.el.dataset.state = tile.state;
  tile.el.querySelector(".state").textContent = t(tile.state);
  tile.el.querySelector(".msg").textContent = tile.message || "";
}

function makeTile(camera) {
  const el = document.createElement("section");
  el.className = "tile";
  el.dataset.camera = camera.id;
  el.innerHTML = `<video autoplay muted playsinline></video>
    <div class="bar"><span class="name"></span><span class="state"></span></div><div class="msg"></div>`;
  el.querySelector(".name").textContent = camera.name;
  const tile = { id: camera.id, el, video: el.querySelector("video"), pc: null, session: null,
                 state: camera.streams.main.health.state, message: "", framesDecoded: 0 };
  state.tiles.set(camera.id, tile);
  renderState(tile);
  return tile;
}

async function play(tile) {
  const rect = tile.el.getBoundingClientRect();
  try {
    const view = await startLiveView(tile.video, tile.id, {
      token: state.token, stream: params.get("stream") || "auto",
      tileWidth: rect.width * devicePixelRatio, tileHeight: rect.height * devicePixelRatio,
    });
    tile.view = view;
    tile.pc = view.pc;
    tile.session = view.sessionId;
    tile.codec = view.codec;
  } catch (err) {
    if (err.status === 401) { showLogin(t("badToken")); return; }
    tile.state = err.code === "unsupported_codec" ? "unsupported_codec" : (tile.state === "live" ? "error" : tile.state);
    tile.message = err.message;
    renderState(tile);
  }
}

function connectEvents() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/api/v1/ws?access_token=${encodeURIComponent(state.token)}`);
  state.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", topics: ["camera.*"] }));
  ws.onmessage = (msg) => {
    const ev = JSON.parse(msg.data);
    if (ev.type !== "event" || ev.topic !== "camera.health") return;
    const tile = state.tiles.get(ev.data.camera_id);
    if (!tile || (tile.session === null && ev.data.stream !== "main")) return;
    tile.state = ev.data.state;
    tile.message = ev.data.detail || "";
    renderState(tile);
  };
  ws.onclose = () => { if (state.token) setTimeout(connectEvents, 2000); };
}

async function start() {
  document.getElementById("login").hidden = true;
  document.getElementById("logout").hidden = false;
  const me = await api("/api/v1/me");
  document.getElementById("who").textContent = `${me.name} (${me.role})`;
  const { cameras } = await api("/api/v1/cameras");
  const grid = document.getElementById("grid");
  grid.replaceChildren();
  const only = params.get("camera");
  for (const camera of cameras) {
    if (only && camera.id !== only) continue;
    grid.appendChild(makeTile(camera).el);
  }
  connectEvents();
  await Promise.all([...state.tiles.values()].map(play));
}

document.getElementById("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = document.getElementById("token").value.trim();
  sessionStorage.setItem("citywall.token", state.token);
  start().catch((err) => showLogin(err.message));
});
document.getElementById("logout").addEventListener("click", () => {
  sessionStorage.removeItem("citywall.token");
  location.reload();
});
document.getElementById("lang").addEventListener("click", () => {
  state.lang = state.lang === "zh" ? "en" : "zh";
  localStorage.setItem("citywall.lang", state.lang);
  applyLang();
});

// Hang up when the page goes away, so the service stops sending at once
// instead of after ICE consent fails (about 30 s of wasted relaying).
addEventListener("pagehide", () => { for (const tile of state.tiles.values()) tile.view?.close(); });

if (params.get("lang")) state.lang = params.get("lang");
applyLang();
// A token in the fragment (#token=...) logs a kiosk screen in without typing.
const fragToken = new URLSearchParams(location.hash.slice(1)).get("token");
state.token = fragToken || sessionStorage.getItem("citywall.token");
if (state.token) start().catch((err) => showLogin(err.message)); else showLogin();
