// The wall page: one browser per physical panel (?panel=ROW,COL) or the whole wall.
// It draws the server's desired state, sent whole on connect and after every
// change on the display feed, and acknowledges each revision it has drawn.
import { api, wsUrl } from "/static/api.js";
import { alarmFeed } from "/static/alarm_feed.js";
import { eventClient } from "/static/events.js";
import { cameraHealth } from "/static/health.js";
import { applyLocale, errorText, t } from "/static/locale.js";
import { finalCloseCode, keepOpen } from "/static/reconnect.js";
import { createStage } from "/static/stage.js";
import { clearToken, loadToken, saveToken } from "/static/token.js";

const params = new URLSearchParams(location.search);
const wallId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const panelParam = params.get("panel");
const state = { token: null, revision: null, appliedAtMs: null, msg: null, timing: null, feed: null, stage: null,
                events: null, alarms: null, ticker: null, tours: new Map(), sessions: { started: 0, kept: 0 } };
window.citywallWall = state;  // inspected by the browser tests and the benchmarks
const statusEl = document.getElementById("status");
const nowMs = () => performance.timeOrigin + performance.now();

function showLogin(message = "") {
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message;
}

function showStatus(text, bad) { statusEl.textContent = text; statusEl.className = bad ? "bad" : ""; }

function render(msg) {
  state.msg = msg;
  const [pw, ph] = msg.panel_wh;
  const shown = msg.panel === null || msg.panel === undefined ? msg.panels : [msg.panels[msg.panel]];
  const single = shown.length === 1 && msg.panels.length > 1;
  const scale = single ? Math.min(innerWidth / pw, innerHeight / ph)
    : Math.min(innerWidth / msg.canvas_wh[0], innerHeight / msg.canvas_wh[1]);
  state.stage.draw(msg, shown, scale, single);
  state.revision = msg.revision;
  requestAnimationFrame(() => {
    state.appliedAtMs = nowMs();
    if (state.timing?.revision === msg.revision) state.timing.paintedMs = state.appliedAtMs;
    state.feed?.send({ type: "applied", revision: msg.revision, at: new Date(state.appliedAtMs).toISOString() });
  });
}

// The tour states a wall_state carries (a `tours` list, or a `tour` on each
// touring tile): the starting point of its tour tiles until the next step.
function rememberTours(msg) {
  if (msg.tours) state.tours = new Map(msg.tours.map((tour) => [tour.tile_id, tour]));
  for (const panel of msg.panels) for (const tile of panel.tiles) {
    const tour = tile.tour ?? tile.content.tour;
    if (tour) state.tours.set(tile.id, { ...tour, tile_id: tile.id });
  }
}

function onFeedMessage(msg) {
  if (msg.type === "wall_state") {
    const receivedMs = nowMs();
    rememberTours(msg);
    render(msg);
    // where a switch's time goes on this display (read by the benchmarks)
    state.timing = { revision: msg.revision, receivedMs, builtMs: nowMs() };
  } else if (msg.type === "tour") {
    state.tours.set(msg.tile_id, msg);
    state.stage.tour(msg);
  }
}

// The display feed; the drawing area in device pixels lets the server pick each
// camera tile's stream for the size it is drawn at (a small overview takes sub streams).
function feedUrl() {
  const viewport = `${Math.round(innerWidth * devicePixelRatio)}x${Math.round(innerHeight * devicePixelRatio)}`;
  const q = `?viewport=${viewport}` + (panelParam ? `&panel=${encodeURIComponent(panelParam)}` : "");
  return wsUrl(`/api/v1/walls/${encodeURIComponent(wallId)}/ws${q}`, state.token);
}

state.onFeedMessage = onFeedMessage;  // the browser tests play tour steps through it

// A socket's close as the page shows it: a bad token asks for another; other
// final closes (token bound to another wall, no such wall or panel) say why;
// the display feed's other closes say it reconnects (the event socket's are silent).
function showClose(ev, { reconnecting }) {
  const code = finalCloseCode(ev);
  if (code === "unauthorized") showLogin(errorText({ code }));
  else if (code) showStatus(errorText({ code }), true);
  else if (reconnecting) showStatus(t("disconnected"), true);
}

function connectFeed() {
  state.feed = keepOpen(feedUrl, {  // W6: a display that reconnects gets the current state
    open: () => showStatus("", false),
    message: onFeedMessage,
    close: (ev) => showClose(ev, { reconnecting: true }),
  });
}

// Ends everything a login built (a new login, or the page going away).
function stop() {
  clearInterval(state.ticker);
  state.feed?.close();
  state.stage?.clear();
  state.alarms?.close();
  state.events?.close();
  Object.assign(state, { feed: null, stage: null, alarms: null, events: null, ticker: null, msg: null });
}

function start() {
  stop();
  const events = eventClient(state.token, { onClose: (ev) => showClose(ev, { reconnecting: false }) });
  let cameras = null;
  const health = cameraHealth(state.token, events, () => state.stage?.refreshStates());
  const alarms = alarmFeed(state.token, events);
  window.citywallAlarms = alarms;  // inspected by the browser tests
  state.stage = createStage(document.getElementById("stage"), {
    token: state.token, events, health, alarms, sessions: state.sessions,
    cameras: () => (cameras ??= api(state.token, "/api/v1/cameras").then((b) => b.cameras).catch(() => [])),
    tourState: (tileId) => state.tours.get(tileId),
  });
  Object.assign(state, { events, alarms, ticker: setInterval(() => state.stage.refreshStates(), 1000) });
  connectFeed();
}

document.getElementById("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = document.getElementById("token").value.trim();
  saveToken(state.token);
  document.getElementById("login").hidden = true;
  start();
});
// A resize redraws at the new scale (live sessions carry over to the redrawn
// tiles) and reconnects the feed, as a new size may need other streams; both
// once the resizing has settled, not at every event of a window drag.
addEventListener("resize", () => {
  clearTimeout(state.resizeTimer);
  state.resizeTimer = setTimeout(() => {
    if (state.msg) render(state.msg);
    state.feed?.reopen();
  }, 300);
});
// Hang up when the page goes away; a page restored from the back-forward cache starts over.
addEventListener("pagehide", stop);
addEventListener("pageshow", (ev) => { if (ev.persisted && state.token) start(); });
applyLocale();
state.token = loadToken();
if (state.token) start(); else showLogin();
if (params.get("logout")) clearToken();
