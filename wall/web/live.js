// Live view page: log in with a token, list cameras, play each over WebRTC.
// Plain ES module, no CDN: everything is served by the service.
import { api } from "/static/api.js";
import { eventClient } from "/static/events.js";
import { applyLocale, errorText, onLocaleChange, t, toggleLocale } from "/static/locale.js";
import { clearToken, loadToken, saveToken } from "/static/token.js";
import { startLiveView } from "/static/webrtc.js";

const state = { token: null, tiles: new Map(), events: null };
window.citywall = state;  // inspected by the browser tests and the benchmarks
const params = new URLSearchParams(location.search);

function showLogin(message = "") {
  document.getElementById("login").hidden = false;
  document.getElementById("logout").hidden = true;
  document.getElementById("login-error").textContent = message;
}

const loginError = (err) => (err.status === 401 ? t("error.unauthorized") : errorText(err));

function renderState(tile) {
  tile.el.dataset.state = tile.state;
  tile.el.querySelector(".state").textContent = t(`stream.${tile.state}`);
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
    Object.assign(tile, { view, pc: view.pc, session: view.sessionId, codec: view.codec });
  } catch (err) {
    if (err.status === 401) { showLogin(loginError(err)); return; }
    tile.state = err.code === "unsupported_codec" ? "unsupported_codec" : (tile.state === "live" ? "error" : tile.state);
    tile.message = errorText(err);
    renderState(tile);
  }
}

function onHealth(data) {
  const tile = state.tiles.get(data.camera_id);
  if (!tile || (tile.session === null && data.stream !== "main")) return;
  tile.state = data.state;
  tile.message = data.detail || "";
  renderState(tile);
}

async function start() {
  document.getElementById("login").hidden = true;
  document.getElementById("logout").hidden = false;
  const me = await api(state.token, "/api/v1/me");
  document.getElementById("who").textContent = `${me.name} (${me.role})`;
  const { cameras } = await api(state.token, "/api/v1/cameras");
  const grid = document.getElementById("grid");
  grid.replaceChildren();
  const only = params.get("camera");
  for (const camera of cameras) {
    if (only && camera.id !== only) continue;
    grid.appendChild(makeTile(camera).el);
  }
  state.events ??= eventClient(state.token);
  state.events.on("camera.health", onHealth);
  await Promise.all([...state.tiles.values()].map(play));
}

document.getElementById("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = document.getElementById("token").value.trim();
  saveToken(state.token);
  start().catch((err) => showLogin(loginError(err)));
});
document.getElementById("logout").addEventListener("click", () => {
  clearToken();
  location.reload();
});
document.getElementById("lang").addEventListener("click", toggleLocale);
onLocaleChange(() => { for (const tile of state.tiles.values()) renderState(tile); });

// Hang up when the page goes away, so the service stops sending at once
// instead of after ICE consent fails (about 30 s of wasted relaying).
addEventListener("pagehide", () => { for (const tile of state.tiles.values()) tile.view?.close(); });

applyLocale();
state.token = loadToken();
if (state.token) start().catch((err) => showLogin(loginError(err))); else showLogin();
