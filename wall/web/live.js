// Live view page: log in with a token, list cameras, play each over WebRTC.
// Plain ES module, no CDN: everything is served by the service.
import { api } from "/static/api.js";
import { eventClient } from "/static/events.js";
import { applyLocale, errorText, onLocaleChange, t, toggleLocale } from "/static/locale.js";
import { finalCloseCode } from "/static/reconnect.js";
import { clearToken, loadToken, saveToken } from "/static/token.js";
import { startLiveView } from "/static/webrtc.js";

const state = { token: null, tiles: new Map(), events: null, me: null, login: 0 };
window.citywall = state;  // inspected by the browser tests and the benchmarks
const params = new URLSearchParams(location.search);

function showLogin(message = "") {
  document.getElementById("login").hidden = false;
  document.getElementById("logout").hidden = true;
  document.getElementById("login-error").textContent = message;
}

const loginError = (err) => (err.status === 401 ? t("error.unauthorized") : errorText(err));

function showWho() {
  if (state.me) document.getElementById("who").textContent = `${state.me.name} (${t(`role.${state.me.role}`)})`;
}

// The line under a tile: why it cannot play (an API error), else why its stream
// is down (camera.health's reason); the server's English detail is the tooltip.
function renderState(tile) {
  tile.el.dataset.state = tile.state;
  tile.el.querySelector(".state").textContent = t(`stream.${tile.state}`);
  const msg = tile.el.querySelector(".msg");
  msg.textContent = tile.error ? errorText(tile.error) : tile.reason ? t(`reason.${tile.reason}`) : "";
  msg.title = tile.detail || "";
}

function makeTile(camera) {
  const el = document.createElement("section");
  el.className = "tile";
  el.dataset.camera = camera.id;
  el.innerHTML = `<video autoplay muted playsinline></video>
    <div class="bar"><span class="name"></span><span class="state"></span></div><div class="msg"></div>`;
  el.querySelector(".name").textContent = camera.name;
  const { state: health, reason, detail } = camera.streams.main.health;
  const tile = { id: camera.id, el, video: el.querySelector("video"), pc: null, session: null, view: null,
                 state: health, reason, detail, error: null, framesDecoded: 0 };
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
    if (state.tiles.get(tile.id) !== tile) { view.close(); return; }  // a new login replaced the tile
    Object.assign(tile, { view, pc: view.pc, session: view.sessionId, codec: view.codec });
  } catch (err) {
    if (err.status === 401) { showLogin(loginError(err)); return; }
    tile.state = err.code === "unsupported_codec" ? "unsupported_codec" : (tile.state === "live" ? "error" : tile.state);
    tile.error = err;
    renderState(tile);
  }
}

function onHealth(data) {
  const tile = state.tiles.get(data.camera_id);
  if (!tile || (tile.session === null && data.stream !== "main")) return;
  Object.assign(tile, { state: data.state, reason: data.reason, detail: data.detail, error: null });
  renderState(tile);
}

// Hangs up every tile and closes the event socket (a new login, the page going away).
function stop() {
  for (const tile of state.tiles.values()) tile.view?.close();
  state.tiles.clear();
  state.events?.close();
  state.events = null;
}

async function start() {
  stop();
  const login = ++state.login;  // a newer login while this one loads wins
  document.getElementById("login").hidden = true;
  document.getElementById("logout").hidden = false;
  const me = await api(state.token, "/api/v1/me");
  const { cameras } = await api(state.token, "/api/v1/cameras");
  if (login !== state.login) return;
  state.me = me;
  showWho();
  const grid = document.getElementById("grid");
  grid.replaceChildren();
  const only = params.get("camera");
  for (const camera of cameras) {
    if (only && camera.id !== only) continue;
    grid.appendChild(makeTile(camera).el);
  }
  state.events = eventClient(state.token, {
    onClose: (ev) => { const code = finalCloseCode(ev); if (code) showLogin(errorText({ code })); },
  });
  state.events.on("camera.health", onHealth);
  await Promise.all([...state.tiles.values()].map(play));
}

const begin = () => start().catch((err) => showLogin(loginError(err)));

document.getElementById("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = document.getElementById("token").value.trim();
  saveToken(state.token);
  begin();
});
document.getElementById("logout").addEventListener("click", () => {
  clearToken();
  location.reload();
});
document.getElementById("lang").addEventListener("click", toggleLocale);
onLocaleChange(() => { showWho(); for (const tile of state.tiles.values()) renderState(tile); });

// Hang up when the page goes away, so the service stops sending at once
// instead of after ICE consent fails (about 30 s of wasted relaying).
addEventListener("pagehide", stop);
addEventListener("pageshow", (ev) => { if (ev.persisted && state.token) begin(); });  // back from the page cache

applyLocale();
state.token = loadToken();
if (state.token) begin(); else showLogin();
