// Operator console: switch a wall's layout with one click, push cameras into
// tiles (pick a tile then a camera, or drag a camera onto a tile), watch
// camera health and the audit trail.
import { api } from "/static/api.js";
import { alarmFeed } from "/static/alarm_feed.js";
import { consoleAlarms } from "/static/console_alarms.js";
import { eventClient } from "/static/events.js";
import { applyLocale, errorText, label, locale, localTime, onLocaleChange, t, toggleLocale } from "/static/locale.js";
import { finalCloseCode } from "/static/reconnect.js";
import { loadToken, saveToken } from "/static/token.js";

const state = { token: null, me: null, role: null, walls: [], wallId: null, wall: null, layouts: [], cameras: [],
                selectedTile: null, alarmPanel: null, events: null, alarms: null };
window.citywallConsole = state;  // inspected by the browser tests
const $ = (id) => document.getElementById(id);

function message(text, bad = false) { $("message").textContent = text; $("message").className = bad ? "bad" : ""; }

function showLogin(text) { $("login").hidden = false; $("login-error").textContent = text; }

function showWho() { if (state.me) $("who").textContent = `${state.me.name} (${t(`role.${state.me.role}`)})`; }

// The event socket's final close: a bad token asks for another, a refusal says so.
function onEventsClose(ev) {
  const code = finalCloseCode(ev);
  if (code === "unauthorized") showLogin(errorText({ code }));
  else if (code) message(errorText({ code }), true);
}

// An audit line's cause: a wall command's cause code (with its reference), else the text as given (a note).
function causeText(cause) {
  const [code, ...ref] = (cause || "").split(":");
  const known = label(`cause.${code}`, null);
  return known === null ? cause || "" : [known, ...ref].join(":");
}

function drawTiles(container, tiles, canvasW, canvasH, width, opts = {}) {
  const scale = width / canvasW;
  container.style.height = `${canvasH * scale}px`;
  container.replaceChildren();
  for (const tile of tiles) {
    const el = document.createElement("div");
    el.className = "t";
    el.dataset.kind = tile.content.kind;
    el.dataset.tile = tile.id;
    Object.assign(el.style, { left: `${tile.x * scale}px`, top: `${tile.y * scale}px`,
      width: `${tile.w * scale}px`, height: `${tile.h * scale}px`, zIndex: String(tile.z || 0) });
    el.textContent = tile.title || tile.content.camera_id || t(`kind.${tile.content.kind}`);
    if (tile.overridden) el.classList.add("overridden");
    opts.decorate?.(el, tile);
    container.append(el);
  }
  return scale;
}

async function loadWall() {
  const wall = await api(state.token, `/api/v1/walls/${encodeURIComponent(state.wallId)}`);
  state.wall = wall;
  $("current-name").textContent = state.layouts.find((l) => l.id === wall.active_layout_id)?.name || wall.active_layout_id || "—";
  $("revision").textContent = `${t("console.rev")} ${wall.revision}`;
  // whole-tile rects in canvas coordinates, from the per-panel pieces
  const tiles = new Map();
  for (const panel of wall.panels) {
    for (const p of panel.tiles) {
      const x = panel.rect[0] + p.rect[0] - p.crop[0], y = panel.rect[1] + p.rect[1] - p.crop[1];
      if (!tiles.has(p.id)) tiles.set(p.id, { id: p.id, x, y, w: p.tile_wh[0], h: p.tile_wh[1], z: p.z,
                                             title: p.title, content: p.content, overridden: p.overridden });
    }
  }
  const preview = $("preview");
  drawTiles(preview, [...tiles.values()], wall.canvas_wh[0], wall.canvas_wh[1], preview.clientWidth, {
    decorate(el, tile) {
      if (tile.id === state.selectedTile) el.classList.add("selected");
      el.addEventListener("click", () => { state.selectedTile = tile.id; loadWall(); });
      el.addEventListener("dragover", (ev) => { ev.preventDefault(); el.classList.add("drop"); });
      el.addEventListener("dragleave", () => el.classList.remove("drop"));
      el.addEventListener("drop", (ev) => { ev.preventDefault(); pushCamera(tile.id, ev.dataTransfer.getData("text/camera")); });
    },
  });
  const scale = preview.clientWidth / wall.canvas_wh[0];
  for (const panel of wall.panels) {
    const line = document.createElement("div");
    line.className = "panel-line";
    Object.assign(line.style, { left: `${panel.rect[0] * scale}px`, top: `${panel.rect[1] * scale}px`,
      width: `${panel.rect[2] * scale}px`, height: `${panel.rect[3] * scale}px` });
    preview.append(line);
  }
  renderLayouts();
}

async function renderLayouts() {
  const shape = state.walls.find((w) => w.id === state.wallId);
  const box = $("layouts");
  box.replaceChildren();
  for (const summary of state.layouts.filter((l) => l.rows === shape.rows && l.cols === shape.cols)) {
    const card = document.createElement("div");
    card.className = "layout-card";
    card.dataset.layout = summary.id;
    if (summary.id === state.wall?.active_layout_id) card.classList.add("active");
    const name = document.createElement("strong");
    name.textContent = locale.lang === "en" && summary.name_en ? summary.name_en : summary.name;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "switch";
    button.textContent = summary.id === state.wall?.active_layout_id ? t("console.active") : t("console.switch");
    button.addEventListener("click", () => switchLayout(summary.id));
    const mini = document.createElement("div");
    mini.className = "mini";
    card.append(name, button, mini);
    box.append(card);
    const full = summary.full || (summary.full = await api(state.token, `/api/v1/layouts/${encodeURIComponent(summary.id)}`));
    const tiles = full.tiles.map((tl) => ({ ...tl.rect, id: tl.id, z: tl.z, title: tl.title, content: tl.content }));
    drawTiles(mini, tiles, full.for_wall.cols * (full.for_wall.panel_w_px || 1920), full.for_wall.rows * (full.for_wall.panel_h_px || 1080), mini.clientWidth || 290);
  }
}

async function switchLayout(layoutId) {
  try {
    const r = await api(state.token, `/api/v1/walls/${encodeURIComponent(state.wallId)}/layout`, { method: "POST", json: { layout_id: layoutId } });
    message(`${t("console.switched")}: ${layoutId} (${t("console.rev")} ${r.revision})`);
  } catch (err) { message(errorText(err), true); }
}

async function pushCamera(tileId, cameraId) {
  if (!tileId) { message(t("console.selectTile"), true); return; }
  try {
    const r = await api(state.token, `/api/v1/walls/${encodeURIComponent(state.wallId)}/tiles/${encodeURIComponent(tileId)}`,
      { method: "PUT", json: { content: { kind: "camera", camera_id: cameraId, stream: "auto" } } });
    message(`${t("console.pushed")}: ${cameraId} → ${tileId} (${t("console.rev")} ${r.revision})`);
  } catch (err) { message(errorText(err), true); }
}

function renderCameras() {
  const list = $("cameras");
  list.replaceChildren();
  for (const cam of state.cameras) {
    const li = document.createElement("li");
    li.draggable = true;
    li.dataset.camera = cam.id;
    const { state: health, reason } = cam.streams.main.health;
    li.dataset.state = health;
    li.innerHTML = '<span class="dot"></span><span class="name"></span>';
    li.lastChild.textContent = cam.name;
    li.title = [cam.id, t(`stream.${health}`), ...(reason ? [t(`reason.${reason}`)] : [])].join(" · ");
    li.addEventListener("dragstart", (ev) => ev.dataTransfer.setData("text/camera", cam.id));
    li.addEventListener("click", () => pushCamera(state.selectedTile, cam.id));
    list.append(li);
  }
}

async function loadAudit() {
  try {
    const { entries } = await api(state.token, "/api/v1/audit?limit=20");
    const ol = $("audit");
    ol.replaceChildren(...entries.map((e) => {
      const li = document.createElement("li");
      const when = localTime(e.at, { withDate: true });
      const d = e.detail || {};
      const what = label(`audit.${e.action}`, e.action);
      li.textContent = `${when} ${e.actor} ${what} ${e.target || ""} ${d.from_layout ? d.from_layout + " → " : ""}${d.to_layout || d.tile_id || ""} (${causeText(e.cause)})`;
      return li;
    }));
  } catch { /* a role without audit rights simply sees no trail */ }
}

// One event socket: wall changes redraw the preview, camera health the list,
// layout changes the cards; alarm actions show in the audit trail.
function listen(events) {
  events.on("wall.state", (data) => { if (data.wall_id === state.wallId) { loadWall(); loadAudit(); } });
  events.on("camera.health", (data) => {
    const cam = data.stream === "main" && state.cameras.find((c) => c.id === data.camera_id);
    if (cam) { Object.assign(cam.streams.main.health, { state: data.state, reason: data.reason }); renderCameras(); }
  });
  events.on("layout.*", () => refreshLayouts());
  events.on("alarm.*", (data, topic) => { if (topic !== "alarm.raised" && topic !== "alarm.updated") loadAudit(); });
}

async function refreshLayouts() { state.layouts = (await api(state.token, "/api/v1/layouts")).layouts; renderLayouts(); }

function selectWall(wallId) {
  state.wallId = wallId;
  state.selectedTile = null;
  for (const b of $("walls").children) b.setAttribute("aria-pressed", String(b.dataset.wall === wallId));
  loadWall();
}

// Closes what an earlier login built (its event socket and alarm feed).
function stop() {
  state.alarms?.close();
  state.events?.close();
  Object.assign(state, { alarms: null, events: null });
}

async function start() {
  stop();
  try {
    state.me = await api(state.token, "/api/v1/me");
    state.role = state.me.role;
    showWho();
  } catch (err) {
    showLogin(err.status === 401 ? t("error.unauthorized") : errorText(err));
    return;
  }
  $("login").hidden = true;
  $("main").hidden = false;
  [state.walls, state.layouts, state.cameras] = await Promise.all([
    api(state.token, "/api/v1/walls").then((b) => b.walls),
    api(state.token, "/api/v1/layouts").then((b) => b.layouts),
    api(state.token, "/api/v1/cameras").then((b) => b.cameras),
  ]);
  const nav = $("walls");
  nav.replaceChildren(...state.walls.map((w) => {
    const b = document.createElement("button");
    b.type = "button"; b.dataset.wall = w.id; b.textContent = `${w.name} (${w.cols}×${w.rows})`;
    b.addEventListener("click", () => selectWall(w.id));
    return b;
  }));
  renderCameras();
  loadAudit();
  state.events = eventClient(state.token, { onClose: onEventsClose });
  state.alarms = alarmFeed(state.token, state.events);
  state.alarmPanel = consoleAlarms($("alarms"), $("alarm-count"), state.alarms,
    { token: state.token, role: () => state.role, message });
  listen(state.events);
  if (state.walls.length) selectWall(state.walls[0].id);
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = $("token").value.trim();
  saveToken(state.token);
  start();
});
$("lang").addEventListener("click", toggleLocale);
onLocaleChange(() => {
  if (!state.role) return;  // not logged in yet: nothing drawn
  showWho();
  renderCameras();
  if (state.wallId) renderLayouts();
  loadAudit();
  state.alarmPanel?.draw();
});
addEventListener("pagehide", stop);
addEventListener("pageshow", (ev) => { if (ev.persisted && state.token) start(); });  // back from the page cache
applyLocale();
state.token = loadToken();
if (state.token) start(); else $("login").hidden = false;
