// The wall page: one browser per physical panel (?panel=ROW,COL) or the whole wall.
// It draws the server's desired state, sent whole on connect and after every
// change, and acknowledges each revision it has drawn.
import { params, loadToken, saveToken, clearToken, makeI18n, api, wsUrl, watchCameraHealth } from "/static/common.js";
import { startLiveView } from "/static/webrtc.js";

const i18n = makeI18n({
  zh: { connecting: "连接中…", disconnected: "与服务器断开，正在重连…", token: "访问令牌", login: "登录",
        lost: "信号中断", removed: "摄像机已移除", noData: "暂无数据", allOffline: "全部信号中断",
        noMap: "离线示意图（无底图）", unsupported: "编码不支持", badToken: "令牌无效",
        noAlarms: "暂无告警", alarmsUnavailable: "告警暂不可用", acked: "已确认", unacked: "未确认", latched: "已解除·待确认",
        critical: "紧急", major: "重要", minor: "次要", warning: "警告", indeterminate: "不确定",
        crowding: "人员聚集", intrusion: "区域入侵", loitering: "逗留徘徊", water_level: "水位超限" },
  en: { connecting: "connecting…", disconnected: "disconnected, reconnecting…", token: "Access token", login: "Log in",
        lost: "signal lost", removed: "camera removed", noData: "no data yet", allOffline: "all sources offline",
        noMap: "offline schematic (no base map)", unsupported: "unsupported codec", badToken: "invalid token",
        noAlarms: "no active alarms", alarmsUnavailable: "alarms unavailable", acked: "acked", unacked: "unacked",
        latched: "cleared · awaiting ack", critical: "critical", major: "major", minor: "minor", warning: "warning",
        indeterminate: "indeterminate", crowding: "crowding", intrusion: "intrusion", loitering: "loitering",
        water_level: "water level" },
});
const t = i18n.t;
const wallId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const panelParam = params.get("panel");
const state = { token: null, revision: null, appliedAtMs: null, msg: null, views: new Map(), spare: new Map(), cameras: null, health: null,
               sessions: { started: 0, kept: 0 } };
window.citywallWall = state;  // inspected by the browser tests
const stage = document.getElementById("stage");
const statusEl = document.getElementById("status");

function cameraOnline(cameraId) {
  const h = state.health?.health;
  if (!h) return true;
  const main = h.get(`${cameraId}/main`), sub = h.get(`${cameraId}/sub`);
  const states = [main?.state, sub?.state].filter(Boolean);
  return states.length === 0 || states.some((s) => s === "live" || s === "connecting" || s === "idle");
}

// ---- tile content -------------------------------------------------------------
function placeholder(text, detail = "") {
  const el = document.createElement("div");
  el.className = "placeholder";
  el.innerHTML = "<span></span><small></small>";
  el.firstChild.textContent = text;
  el.lastChild.textContent = detail;
  return el;
}

// Work that may wait until the frame showing a switch has been drawn.
const paintQueue = [];
function afterPaint(fn) {
  paintQueue.push(fn);
  if (paintQueue.length === 1) requestAnimationFrame(() => setTimeout(flushAfterPaint, 0));
}
function flushAfterPaint() {
  for (const fn of paintQueue.splice(0)) { try { fn(); } catch (err) { console.error(err); } }
}

function cameraView(tile, cameraId, stream) {
  const wrap = document.createElement("div");
  wrap.style.cssText = "position:absolute;inset:0";
  const video = document.createElement("video");
  video.autoplay = true; video.muted = true; video.playsInline = true;
  const lost = document.createElement("div");
  lost.className = "lost";
  lost.textContent = t("lost");
  wrap.append(video, lost);
  const view = { el: wrap, video, cameraId, handle: null, closed: false, error: null };
  // negotiate after the new layout is on screen: a switch is seen at once and
  // the peer connections' set-up does not delay the frame that shows it
  afterPaint(() => view.closed ? null : startLiveView(video, cameraId, { token: state.token, stream, tileWidth: tile.tile_wh[0], tileHeight: tile.tile_wh[1] })
    .then((h) => { if (view.closed) h.close(); else view.handle = h; })
    .catch((err) => {
      view.error = err;
      wrap.replaceChildren(placeholder(err.code === "unsupported_codec" ? t("unsupported") : t("lost"), err.message));
    }));
  view.close = () => { view.closed = true; view.handle?.close(); view.stopOverlay?.(); };
  if (tile.content.overlay_detections) view.stopOverlay = detectionOverlay(wrap, cameraId);
  view.reuseKey = reuseKey(tile.content);
  return view;
}

// Tiles that show the same camera, stream and overlay can share a live session:
// on a layout switch such a tile keeps its playing <video> instead of hanging
// up and negotiating again (no black flash, far less work for every display).
function reuseKey(c) {
  if (c.kind !== "camera" || c.camera_removed || !c.stream_role) return null;
  return `${c.camera_id}|${c.stream_role}|${c.overlay_detections ? 1 : 0}`;
}

// Boxes and zone counts from the detector, drawn over a camera tile when the
// tile's content asks for it (overlay_detections). The analysis runs on the
// camera's sub stream, so its coordinates are scaled to the tile.
function detectionOverlay(wrap, cameraId) {
  const canvas = document.createElement("canvas");
  canvas.className = "overlay";
  canvas.style.cssText = "position:absolute;inset:0;width:100%;height:100%;pointer-events:none;z-index:1";
  wrap.append(canvas);
  let stopped = false;
  const draw = (a) => {
    const w = (canvas.width = wrap.clientWidth), h = (canvas.height = wrap.clientHeight);
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, w, h);
    if (!a.frame_wh) return;
    const sx = w / a.frame_wh[0], sy = h / a.frame_wh[1];
    g.lineWidth = Math.max(1, w / 400);
    g.font = `${Math.max(10, w / 45)}px sans-serif`;
    for (const z of a.zones) {
      g.strokeStyle = z.alarms?.length ? "#ff3b30" : z.kind === "danger" ? "#ffcc00" : "#2ecc71";
      g.beginPath();
      z.polygon.forEach(([x, y], i) => (i ? g.lineTo(x * sx, y * sy) : g.moveTo(x * sx, y * sy)));
      g.closePath(); g.stroke();
      const [x0, y0] = z.polygon[0];
      g.fillStyle = g.strokeStyle;
      const density = z.density_ppm2 == null ? "" : ` · ${z.density_ppm2.toFixed(1)}/m²`;
      g.fillText(`${z.name}: ${z.count ?? "–"}${density}`, x0 * sx + 4, y0 * sy + Math.max(12, w / 40));
    }
    g.strokeStyle = "#3d9bff";
    for (const b of a.boxes) {
      const [x1, y1, x2, y2] = b.xyxy;
      g.strokeRect(x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy);
    }
  };
  const poll = async () => {
    while (!stopped) {
      try { draw(await api(state.token, `/api/v1/cameras/${encodeURIComponent(cameraId)}/analysis`)); }
      catch { canvas.getContext("2d")?.clearRect(0, 0, canvas.width, canvas.height); }  // not analysed: no overlay
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  poll();
  return () => { stopped = true; canvas.remove(); };
}

function textView(c, scale) {
  const el = document.createElement("div");
  el.className = `banner ${c.level || "info"}`;
  el.style.setProperty("--text-px", `${Math.max(10, (c.font_px || 48) * scale)}px`);
  const run = document.createElement("span");
  run.textContent = c.text;
  if (c.scroll) {
    run.className = "run";
    const speed = Math.max(10, c.speed_px_s || 120);
    el.style.setProperty("--dur", `${Math.max(5, (c.text.length * (c.font_px || 48)) / speed)}s`);
  }
  el.append(run);
  return { el, close() {} };
}

function clockView(c, scale, h) {
  const el = document.createElement("div");
  el.className = "clock";
  el.style.setProperty("--clock-px", `${Math.max(12, Math.min(h * 0.45, 160 * scale))}px`);
  el.innerHTML = '<div class="time"></div><div class="date"></div>';
  const tz = c.tz || "Asia/Shanghai";
  const tick = () => {
    const now = new Date();
    el.firstChild.textContent = now.toLocaleTimeString(i18n.state.lang === "zh" ? "zh-CN" : "en-GB", { timeZone: tz, hour12: false });
    el.lastChild.textContent = now.toLocaleDateString(i18n.state.lang === "zh" ? "zh-CN" : "en-GB",
      { timeZone: tz, year: "numeric", month: "long", day: "numeric", weekday: "long" });
  };
  tick();
  const timer = setInterval(tick, 500);
  return { el, close() { clearInterval(timer); } };
}

async function cameraList() {
  if (!state.cameras) state.cameras = api(state.token, "/api/v1/cameras").then((b) => b.cameras).catch(() => []);
  return state.cameras;
}

function mapView(c, w, h) {
  // A schematic: camera positions projected around the centre (Web Mercator
  // scale); a command-centre network has no internet, so no base-map tiles.
  const el = document.createElement("div");
  el.className = "mapview";
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  el.append(svg, placeholder("", t("noMap")));
  el.lastChild.style.cssText += ";border:none;justify-content:flex-end;pointer-events:none";
  const lat0 = c.center?.lat ?? 31.86, lon0 = c.center?.lon ?? 106.75, zoom = c.zoom ?? 12;
  const mPerPx = (156543.03 * Math.cos((lat0 * Math.PI) / 180)) / 2 ** zoom;
  cameraList().then((cams) => {
    for (const cam of cams) {
      if (!cam.location) continue;
      const dx = ((cam.location.lon - lon0) * 111320 * Math.cos((lat0 * Math.PI) / 180)) / mPerPx;
      const dy = ((cam.location.lat - lat0) * 110540) / mPerPx;
      const x = w / 2 + dx, y = h / 2 - dy;
      if (x < 0 || y < 0 || x > w || y > h) continue;
      const g = document.createElementNS(svgNs, "g");
      g.innerHTML = `<circle r="${Math.max(6, w / 160)}" fill="#2ecc71" stroke="#fff" stroke-width="2"></circle>`;
      const label = document.createElementNS(svgNs, "text");
      label.setAttribute("x", "14"); label.setAttribute("y", "6"); label.setAttribute("fill", "#dfe8ff");
      label.setAttribute("font-size", `${Math.max(12, w / 70)}`);
      label.textContent = cam.name;
      g.append(label);
      g.setAttribute("transform", `translate(${x},${y})`);
      g.dataset.camera = cam.id;
      svg.append(g);
    }
  });
  return { el, close() {} };
}

function tourView(tile, c) {
  // Every display computes the same item from the wall clock, so tiles (and
  // panels) showing one tour switch together (T6); offline items are skipped.
  const items = (c.items || []).map((it) => ({ ...it, dwell: it.dwell_s || c.dwell_s || 10 }));
  const cycle = items.reduce((s, it) => s + it.dwell, 0);
  const el = document.createElement("div");
  el.style.cssText = "position:absolute;inset:0";
  const view = { el, current: null, next: null, index: -1, status: "playing" };
  const indexAt = (nowS) => {
    let pos = ((nowS % cycle) + cycle) % cycle;
    for (let i = 0; i < items.length; i++) { if (pos < items[i].dwell) return [i, items[i].dwell - pos]; pos -= items[i].dwell; }
    return [0, items[0].dwell];
  };
  const firstOnline = (start) => {
    for (let k = 0; k < items.length; k++) {
      const i = (start + k) % items.length;
      if (!items[i].camera_removed && cameraOnline(items[i].camera_id)) return i;
    }
    return -1;
  };
  const tick = () => {
    if (!items.length) return;
    const [raw, left] = indexAt(Date.now() / 1000);
    const i = firstOnline(raw);
    if (i < 0) {
      if (view.status !== "all_offline") { view.current?.close(); view.current = null; el.replaceChildren(placeholder(t("allOffline"))); }
      view.status = "all_offline"; view.index = -1;
      return;
    }
    view.status = "playing";
    if (i !== view.index) {
      const ready = view.next && view.next.cameraId === items[i].camera_id ? view.next : null;
      const incoming = ready || cameraView(tile, items[i].camera_id, c.stream || "auto");
      if (ready) view.next = null;
      incoming.el.style.visibility = "visible";
      el.replaceChildren(incoming.el);
      view.current?.close();
      view.current = incoming; view.index = i;
    }
    const upcoming = firstOnline((raw + 1) % items.length);
    if (left < 1.5 && upcoming >= 0 && upcoming !== view.index && !view.next) {  // T3: buffer ahead
      view.next = cameraView(tile, items[upcoming].camera_id, c.stream || "auto");
      view.next.el.style.visibility = "hidden";
      el.append(view.next.el);
    }
  };
  tick();
  const timer = setInterval(tick, 250);
  view.close = () => { clearInterval(timer); view.current?.close(); view.next?.close(); };
  return view;
}

// ---- alarms: one list shared by every alarm tile, kept current from the event
// WebSocket (alarm.*). A snapshot is fetched after each (re)subscription and every
// minute; events that arrive while it loads are applied after it, in order.
const SEVERITY_RANK = { critical: 4, major: 3, minor: 2, warning: 1, indeterminate: 0 };
const SEVERITY_COLOUR = { critical: "#ff3b30", major: "#ff8c00", minor: "#ffcc00", warning: "#4da3ff", indeterminate: "#8ea4d2" };
const alarmFeed = { alarms: new Map(), views: new Set(), ws: null, loaded: false, error: null, pending: null, timer: null };
window.citywallAlarms = alarmFeed;  // inspected by the browser tests

function mergeAlarm(a) {
  const known = alarmFeed.alarms.get(a.id);
  if (known && known.updated_at > a.updated_at) return;  // fixed-width UTC text: text order is time order
  if (a.active || a.latched) alarmFeed.alarms.set(a.id, a); else alarmFeed.alarms.delete(a.id);
}

async function resyncAlarms() {
  if (alarmFeed.pending) return;
  alarmFeed.pending = [];
  try {
    const body = await api(state.token, "/api/v1/alarms?status=active&limit=1000");
    alarmFeed.alarms = new Map(body.alarms.map((a) => [a.id, a]));
    for (const a of alarmFeed.pending) mergeAlarm(a);
    alarmFeed.loaded = true; alarmFeed.error = null;
  } catch (err) { alarmFeed.error = err; }
  alarmFeed.pending = null;
  for (const v of alarmFeed.views) v.draw();
}

function watchAlarms() {
  clearTimeout(alarmFeed.stopTimer);
  if (alarmFeed.ws) return;
  const ws = new WebSocket(wsUrl("/api/v1/ws", state.token));
  alarmFeed.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", topics: ["alarm.*"] }));
  ws.onmessage = (msg) => {
    const ev = JSON.parse(msg.data);
    if (ev.type === "subscribed") { resyncAlarms(); return; }
    if (ev.type !== "event" || !ev.topic.startsWith("alarm.")) return;
    if (alarmFeed.pending) { alarmFeed.pending.push(ev.data); return; }
    mergeAlarm(ev.data);
    for (const v of alarmFeed.views) v.draw();
  };
  ws.onclose = () => {
    alarmFeed.ws = null;
    if (alarmFeed.views.size) setTimeout(watchAlarms, 2000);
  };
  if (!alarmFeed.timer) alarmFeed.timer = setInterval(resyncAlarms, 60000);  // a safety net for dropped events
}

function unwatchAlarmsSoon() {  // a layout switch often brings another alarm tile at once
  clearTimeout(alarmFeed.stopTimer);
  alarmFeed.stopTimer = setTimeout(() => {
    if (alarmFeed.views.size) return;
    clearInterval(alarmFeed.timer); alarmFeed.timer = null;
    const ws = alarmFeed.ws; alarmFeed.ws = null; ws?.close();
  }, 5000);
}

function alarmRow(a, scale) {
  const colour = SEVERITY_COLOUR[a.severity] || "#8ea4d2";
  const row = document.createElement("div");
  Object.assign(row.dataset, { alarm: a.id, severity: a.severity, status: a.status, latched: String(a.latched) });
  row.style.cssText = `display:flex;align-items:center;gap:.6em;padding:.15em .5em;flex:none;border-left:${Math.max(3, 10 * scale)}px solid ${colour};`
    + `background:rgba(255,255,255,${a.acknowledged ? 0.03 : 0.1});${a.latched ? `outline:2px dashed ${colour};outline-offset:-2px;` : ""}`;
  const cell = (text, css) => { const el = document.createElement("span"); el.textContent = text; el.style.cssText = css; return el; };
  const when = new Date(a.started_at).toLocaleTimeString(i18n.state.lang === "zh" ? "zh-CN" : "en-GB", { timeZone: "Asia/Shanghai", hour12: false });
  row.append(
    cell(t(a.severity), `color:#000;background:${colour};padding:0 .35em;border-radius:.2em;font-weight:700;font-size:.8em`),
    cell(`${t(a.type)} · ${a.originator.id}`, "flex:1;white-space:nowrap;overflow:hidden;text-overflow:ellipsis"),
    cell(a.count ? `×${a.count + 1}` : "", "color:#9fb3dc"),
    cell(when, "font-variant-numeric:tabular-nums;color:#9fb3dc"),
    cell(a.latched ? t("latched") : a.acknowledged ? t("acked") : t("unacked"),
      `font-size:.8em;color:${a.acknowledged ? "#6d7fa6" : colour}`),
  );
  return row;
}

function alarmListView(c, scale) {
  // Honours the tile's filter (min_severity, domain, include_acknowledged) and limit.
  const filter = c.filter || {};
  const el = document.createElement("div");
  el.className = "alarm-list";
  el.style.cssText = `position:absolute;inset:0;display:flex;flex-direction:column;gap:${Math.max(2, 8 * scale)}px;`
    + `padding:calc(var(--title-px,28px) * 1.7) ${Math.max(4, 14 * scale)}px 0;overflow:hidden;font-size:${Math.max(11, 34 * scale)}px`;
  const view = { el };
  view.draw = () => {
    const minRank = SEVERITY_RANK[filter.min_severity || "warning"] ?? 0;
    const shown = [...alarmFeed.alarms.values()]
      .filter((a) => (a.active || a.latched) && (SEVERITY_RANK[a.severity] ?? 0) >= minRank
        && (!filter.domain || a.domain === filter.domain)
        && (filter.include_acknowledged !== false || !a.acknowledged))
      .sort((a, b) => (SEVERITY_RANK[b.severity] ?? 0) - (SEVERITY_RANK[a.severity] ?? 0)
        || (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0) || (a.id < b.id ? -1 : 1))
      .slice(0, c.limit || 20);
    el.dataset.count = String(shown.length);
    if (shown.length) { el.replaceChildren(...shown.map((a) => alarmRow(a, scale))); return; }
    const text = alarmFeed.loaded ? t("noAlarms") : alarmFeed.error ? t("alarmsUnavailable") : t("connecting");
    el.replaceChildren(placeholder(text, alarmFeed.error && !alarmFeed.loaded ? alarmFeed.error.message : ""));
  };
  view.close = () => { alarmFeed.views.delete(view); if (!alarmFeed.views.size) unwatchAlarmsSoon(); };
  alarmFeed.views.add(view);
  watchAlarms();
  view.draw();
  return view;
}

function contentView(tile, scale) {
  const c = tile.content;
  const w = tile.tile_wh[0] * scale, h = tile.tile_wh[1] * scale;
  switch (c.kind) {
    case "camera": {
      if (c.camera_removed) return { el: placeholder(t("removed"), c.camera_id), close() {} };
      const spare = state.spare.get(reuseKey(c));
      if (spare?.length) { state.sessions.kept++; return spare.pop(); }
      state.sessions.started++;
      return cameraView(tile, c.camera_id, c.stream_role || c.stream || "auto");
    }
    case "tour": return tourView(tile, c);
    case "text": return textView(c, scale);
    case "clock": return clockView(c, scale, h);
    case "image": {
      const img = document.createElement("img");
      img.src = c.url; img.style.cssText = `width:100%;height:100%;object-fit:${c.fit || "contain"}`;
      return { el: img, close() {} };
    }
    case "map": return mapView(c, w, h);
    case "empty": return { el: document.createElement("div"), close() {} };
    case "alarm_list": return alarmListView(c, scale);
    default: {  // sensor, case_list, grid_stats: their data arrives with later capabilities
      const detail = c.station_id || c.admin_unit_id || c.kind;
      return { el: placeholder(t("noData"), detail), close() {} };
    }
  }
}

// ---- layout -----------------------------------------------------------------------
function tileSignature(panel, tile) {
  return JSON.stringify([tile.content, tile.tile_wh, tile.crop, tile.rect, tile.title, tile.title_mode]);
}

function buildTile(tile, scale) {
  const el = document.createElement("section");
  el.className = "tile";
  el.dataset.tile = tile.id;
  el.dataset.kind = tile.content.kind;
  if (tile.content.camera_id) el.dataset.camera = tile.content.camera_id;
  el.style.setProperty("--title-px", `${Math.max(10, 30 * scale)}px`);
  el.style.setProperty("--badge-px", `${Math.max(12, 56 * scale)}px`);
  el.style.setProperty("--ph-px", `${Math.max(10, 40 * scale)}px`);
  const inner = document.createElement("div");
  inner.className = "content";
  inner.style.width = `${tile.tile_wh[0] * scale}px`;
  inner.style.height = `${tile.tile_wh[1] * scale}px`;
  inner.style.left = `${-tile.crop[0] * scale}px`;
  inner.style.top = `${-tile.crop[1] * scale}px`;
  const view = contentView(tile, scale);
  inner.append(view.el);
  el.append(inner);
  if (tile.title_mode !== "none") {  // inside the full-size content: cropped like the picture
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.innerHTML = '<span class="name"></span>';
    bar.firstChild.textContent = tile.title || tile.content.camera_id || "";
    if (tile.title_mode === "title_live" || tile.content.kind === "camera") bar.insertAdjacentHTML("afterbegin", '<span class="dot"></span>');
    inner.append(bar);
  }
  el.dataset.state = "connecting";
  return { el, view, tile };
}

function render(msg) {
  state.msg = msg;
  const vw = innerWidth, vh = innerHeight;
  const [pw, ph] = msg.panel_wh;
  const shown = msg.panel === null || msg.panel === undefined ? msg.panels : [msg.panels[msg.panel]];
  const single = shown.length === 1 && msg.panels.length > 1;
  const scale = single ? Math.min(vw / pw, vh / ph) : Math.min(vw / msg.canvas_wh[0], vh / msg.canvas_wh[1]);
  // 1. retire the tiles that change; their live sessions become spares
  const wanted = new Map();
  for (const panel of shown) for (const tile of panel.tiles) {
    wanted.set(`${panel.index}/${tile.id}`, tileSignature(panel, tile) + `@${scale}`);
  }
  state.spare = new Map();
  for (const [key, v] of state.views) {
    if (wanted.get(key) === v.sig) continue;
    v.el.remove();
    state.views.delete(key);
    const k = v.view.reuseKey;
    if (k && !v.view.error && !v.view.closed) (state.spare.get(k) || state.spare.set(k, []).get(k)).push(v.view);
    else v.view.close();
  }
  // 2. build the new tiles, taking a spare session where one fits
  for (const panel of shown) {
    let pel = stage.querySelector(`.panel[data-index="${panel.index}"]`);
    if (!pel) { pel = document.createElement("div"); pel.className = "panel"; pel.dataset.index = panel.index; stage.append(pel); }
    const [px, py] = single ? [0, 0] : [panel.rect[0] * scale, panel.rect[1] * scale];
    Object.assign(pel.style, { left: `${px}px`, top: `${py}px`, width: `${pw * scale}px`, height: `${ph * scale}px` });
    pel.dataset.layout = panel.layout_id || "";
    for (const tile of panel.tiles) {
      const key = `${panel.index}/${tile.id}`;
      let v = state.views.get(key);
      if (!v) { v = buildTile(tile, scale); v.sig = wanted.get(key); state.views.set(key, v); pel.append(v.el); }
      Object.assign(v.el.style, { left: `${tile.rect[0] * scale}px`, top: `${tile.rect[1] * scale}px`,
        width: `${tile.rect[2] * scale}px`, height: `${tile.rect[3] * scale}px`, zIndex: String(tile.z) });
      refreshTileState(v);
    }
  }
  // 3. hang up the sessions no new tile took, once the switch is on screen
  for (const views of state.spare.values()) for (const view of views) { view.closed = true; afterPaint(() => view.close()); }
  state.spare = new Map();
  for (const pel of stage.querySelectorAll(".panel")) if (!shown.some((p) => String(p.index) === pel.dataset.index)) pel.remove();
  state.revision = msg.revision;
  requestAnimationFrame(() => {
    state.appliedAtMs = performance.timeOrigin + performance.now();
    if (state.timing?.revision === msg.revision) state.timing.paintedMs = state.appliedAtMs;
    state.ws?.readyState === WebSocket.OPEN &&
      state.ws.send(JSON.stringify({ type: "applied", revision: msg.revision, at_ms: state.appliedAtMs }));
  });
}

function refreshTileState(v) {
  const c = v.tile.content;
  if (c.kind !== "camera" || c.camera_removed) { v.el.dataset.state = c.kind === "camera" ? "lost" : "static"; return; }
  v.el.dataset.state = cameraOnline(c.camera_id) ? (v.view.video?.currentTime > 0 ? "live" : "connecting") : "lost";
}

function connect() {
  // the drawing area in device pixels: the server picks each camera tile's
  // stream for the size it is drawn at (a small overview takes sub streams)
  const viewport = `${Math.round(innerWidth * devicePixelRatio)}x${Math.round(innerHeight * devicePixelRatio)}`;
  const q = `?viewport=${viewport}` + (panelParam ? `&panel=${encodeURIComponent(panelParam)}` : "");
  const ws = new WebSocket(wsUrl(`/api/v1/walls/${encodeURIComponent(wallId)}/ws${q}`, state.token));
  state.ws = ws;
  ws.onopen = () => { statusEl.textContent = ""; statusEl.className = ""; };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "wall_state") {
      const receivedMs = performance.timeOrigin + performance.now();
      render(msg);
      // where a switch's time goes on this display (read by the benchmarks)
      state.timing = { revision: msg.revision, receivedMs, builtMs: performance.timeOrigin + performance.now() };
    }
  };
  ws.onclose = (ev) => {
    if (ev.code === 4401) { showLogin(t("badToken")); return; }
    statusEl.textContent = t("disconnected"); statusEl.className = "bad";
    if (state.ws !== ws) return;  // replaced already (resize)
    setTimeout(connect, 1000);  // W6: a display that reconnects gets the current state
  };
}

function showLogin(message = "") {
  const form = document.getElementById("login");
  form.hidden = false;
  document.getElementById("login-error").textContent = message;
}

function start() {
  state.health = watchCameraHealth(state.token, () => { for (const v of state.views.values()) refreshTileState(v); });
  setInterval(() => { for (const v of state.views.values()) refreshTileState(v); }, 1000);
  connect();
}

document.getElementById("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = document.getElementById("token").value.trim();
  saveToken(state.token);
  document.getElementById("login").hidden = true;
  start();
});
addEventListener("resize", () => {
  if (state.msg) { for (const v of state.views.values()) { v.view.close(); v.el.remove(); } state.views.clear(); render(state.msg); }
  // a new size may need other streams: reconnect so the server renders for it
  clearTimeout(state.resizeTimer);
  state.resizeTimer = setTimeout(() => { if (state.ws) { const old = state.ws; connect(); old.close(); } }, 300);
});
addEventListener("pagehide", () => { for (const v of state.views.values()) v.view.close(); });
i18n.apply();
state.token = loadToken();
if (state.token) start(); else showLogin();
if (params.get("logout")) clearToken();
