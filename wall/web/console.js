// Operator console: switch a wall's layout with one click, push cameras into
// tiles (pick a tile then a camera, or drag a camera onto a tile), watch
// camera health and the audit trail.
import { loadToken, saveToken, makeI18n, api, wsUrl } from "/static/common.js";

const i18n = makeI18n({
  zh: { title: "大屏控制台", token: "访问令牌", login: "登录", layouts: "场景预案", current: "当前画面",
        cameras: "摄像机", audit: "操作记录", switch: "切换", active: "当前",
        hint: "选择一个画面窗口，再点击摄像机推送上墙；也可直接拖放。", pushed: "已推送", switched: "已切换",
        selectTile: "请先选择一个画面窗口", badToken: "令牌无效", lang: "English", rev: "版本",
        alarms: "告警", ack: "确认", force: "强制确认", noAlarms: "暂无告警", acked: "已确认", latched: "已解除·待确认",
        ackedMsg: "已确认告警", forceAsk: "强制确认会同时解除该告警（记入操作记录）。继续？",
        critical: "紧急", major: "重要", minor: "次要", warning: "警告", indeterminate: "不确定" },
  en: { title: "Wall console", token: "Access token", login: "Log in", layouts: "Layouts", current: "On the wall",
        cameras: "Cameras", audit: "Audit trail", switch: "Switch", active: "active",
        hint: "Select a tile, then click a camera to push it to the wall; or drag a camera onto a tile.",
        pushed: "pushed", switched: "switched", selectTile: "select a tile first", badToken: "invalid token",
        lang: "中文", rev: "rev",
        alarms: "Alarms", ack: "Ack", force: "Force", noAlarms: "no active alarms", acked: "acked",
        latched: "cleared · awaiting ack", ackedMsg: "alarm acknowledged",
        forceAsk: "A forced ack also clears the alarm (audited). Continue?",
        critical: "critical", major: "major", minor: "minor", warning: "warning", indeterminate: "indeterminate" },
});
const t = i18n.t;
const state = { token: null, role: null, walls: [], wallId: null, wall: null, layouts: [], cameras: [], selectedTile: null,
                alarms: [] };
window.citywallConsole = state;  // inspected by the browser tests
const $ = (id) => document.getElementById(id);

function message(text, bad = false) { $("message").textContent = text; $("message").className = bad ? "bad" : ""; }

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
    el.textContent = tile.title || tile.content.camera_id || tile.content.kind;
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
  $("revision").textContent = `${t("rev")} ${wall.revision}`;
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
    name.textContent = i18n.state.lang === "en" && summary.name_en ? summary.name_en : summary.name;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "switch";
    button.textContent = summary.id === state.wall?.active_layout_id ? t("active") : t("switch");
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
    message(`${t("switched")}: ${layoutId} (${t("rev")} ${r.revision})`);
  } catch (err) { message(err.message, true); }
}

async function pushCamera(tileId, cameraId) {
  if (!tileId) { message(t("selectTile"), true); return; }
  try {
    const r = await api(state.token, `/api/v1/walls/${encodeURIComponent(state.wallId)}/tiles/${encodeURIComponent(tileId)}`,
      { method: "PUT", json: { content: { kind: "camera", camera_id: cameraId, stream: "auto" } } });
    message(`${t("pushed")}: ${cameraId} → ${tileId} (${t("rev")} ${r.revision})`);
  } catch (err) { message(err.message, true); }
}

function renderCameras() {
  const list = $("cameras");
  list.replaceChildren();
  for (const cam of state.cameras) {
    const li = document.createElement("li");
    li.draggable = true;
    li.dataset.camera = cam.id;
    li.dataset.state = cam.streams.main.health.state;
    li.innerHTML = '<span class="dot"></span><span class="name"></span>';
    li.lastChild.textContent = cam.name;
    li.title = `${cam.id} · ${cam.streams.main.health.state}`;
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
      const when = new Date(e.at).toLocaleString(i18n.state.lang === "zh" ? "zh-CN" : "en-GB", { timeZone: "Asia/Shanghai", hour12: false });
      const d = e.detail || {};
      li.textContent = `${when} ${e.actor} ${e.action} ${e.target || ""} ${d.from_layout ? d.from_layout + " → " : ""}${d.to_layout || d.tile_id || ""} (${e.cause || ""})`;
      return li;
    }));
  } catch { /* a role without audit rights simply sees no trail */ }
}

// ---- alarms: active (and latched) alarms with an Ack button, refreshed on alarm.* events
const CAN_ACK = new Set(["admin", "duty_officer"]);

async function loadAlarms() {
  try {
    state.alarms = (await api(state.token, "/api/v1/alarms?status=active&limit=200")).alarms;
  } catch (err) { state.alarms = []; $("alarm-count").textContent = err.message; return; }
  renderAlarms();
}

function renderAlarms() {
  const list = $("alarms");
  $("alarm-count").textContent = state.alarms.length ? `(${state.alarms.length})` : "";
  if (!state.alarms.length) {
    const li = document.createElement("li");
    li.className = "none";
    li.textContent = t("noAlarms");
    list.replaceChildren(li);
    return;
  }
  list.replaceChildren(...state.alarms.map((a) => {
    const li = document.createElement("li");
    Object.assign(li.dataset, { alarm: a.id, severity: a.severity, status: a.status, latched: String(a.latched) });
    const when = new Date(a.started_at).toLocaleString(i18n.state.lang === "zh" ? "zh-CN" : "en-GB", { timeZone: "Asia/Shanghai", hour12: false });
    li.innerHTML = '<span class="sev"></span><span class="what"></span><small class="when"></small><span class="actions"></span>';
    li.querySelector(".sev").textContent = t(a.severity);
    li.querySelector(".what").textContent = `${a.type} · ${a.originator.kind}:${a.originator.id}${a.count ? ` ×${a.count + 1}` : ""}`;
    li.querySelector(".when").textContent = `${when}${a.latched ? ` · ${t("latched")}` : a.acknowledged ? ` · ${t("acked")} ${a.acked_by}` : ""}`;
    const actions = li.querySelector(".actions");
    if (!a.acknowledged && CAN_ACK.has(state.role)) actions.append(ackButton(a, false));
    if (a.active && state.role === "admin") actions.append(ackButton(a, true));
    return li;
  }));
}

function ackButton(alarm, forced) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = forced ? "force" : "ack";
  b.textContent = forced ? t("force") : t("ack");
  b.addEventListener("click", async () => {
    if (forced && !confirm(t("forceAsk"))) return;
    b.disabled = true;
    try {
      await api(state.token, `/api/v1/alarms/${encodeURIComponent(alarm.id)}/ack`, { method: "POST", json: { forced } });
      message(`${t("ackedMsg")}: ${alarm.type} · ${alarm.originator.id}`);
    } catch (err) { message(err.message, true); b.disabled = false; }
    loadAlarms();
  });
  return b;
}

function listen() {
  const ws = new WebSocket(wsUrl("/api/v1/ws", state.token));
  ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", topics: ["wall.*", "camera.*", "layout.*", "alarm.*"] }));
  ws.onmessage = (msg) => {
    const ev = JSON.parse(msg.data);
    if (ev.type !== "event") return;
    if (ev.topic === "wall.state" && ev.data.wall_id === state.wallId) { loadWall(); loadAudit(); }
    if (ev.topic === "camera.health" && ev.data.stream === "main") {
      const cam = state.cameras.find((c) => c.id === ev.data.camera_id);
      if (cam) { cam.streams.main.health.state = ev.data.state; renderCameras(); }
    }
    if (ev.topic.startsWith("layout.")) { refreshLayouts(); }
    if (ev.topic.startsWith("alarm.")) {
      loadAlarms();
      if (ev.topic !== "alarm.raised" && ev.topic !== "alarm.updated") loadAudit();
    }
  };
  ws.onclose = () => setTimeout(listen, 2000);
}

async function refreshLayouts() { state.layouts = (await api(state.token, "/api/v1/layouts")).layouts; renderLayouts(); }

function selectWall(wallId) {
  state.wallId = wallId;
  state.selectedTile = null;
  for (const b of $("walls").children) b.setAttribute("aria-pressed", String(b.dataset.wall === wallId));
  loadWall();
}

async function start() {
  try {
    const me = await api(state.token, "/api/v1/me");
    $("who").textContent = `${me.name} (${me.role})`;
    state.role = me.role;
  } catch (err) {
    $("login").hidden = false;
    $("login-error").textContent = err.status === 401 ? t("badToken") : err.message;
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
  loadAlarms();
  listen();
  if (state.walls.length) selectWall(state.walls[0].id);
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = $("token").value.trim();
  saveToken(state.token);
  start();
});
$("lang").addEventListener("click", () => { i18n.toggle(); $("lang").textContent = t("lang"); renderLayouts(); loadAudit(); renderAlarms(); });
i18n.apply();
$("lang").textContent = t("lang");
state.token = loadToken();
if (state.token) start(); else $("login").hidden = false;
