// Active and latched alarms, one list per page for every view that shows
// them, kept current from alarm.* events. A snapshot is fetched after each
// (re)subscription and every minute (a safety net for dropped events);
// events that arrive while it loads are applied after it, in order.
import { api } from "/static/api.js";

const RESYNC_MS = 60000;
const LINGER_MS = 5000;  // a layout switch often brings another alarm view at once

const newer = (a, b) => new Date(a.updated_at) > new Date(b.updated_at);

/**
 * The feed of `token` over `events`. Views are { draw() }; watch(view) returns unwatch();
 * close() stops it for good (a new login builds a new feed).
 */
export function alarmFeed(token, events) {
  const feed = { alarms: new Map(), loaded: false, error: null };
  const views = new Set();
  let pending = null, timer = null, off = null, stopTimer = null;
  const redraw = () => { for (const v of views) v.draw(); };
  const merge = (a) => {
    const known = feed.alarms.get(a.id);
    if (known && newer(known, a)) return;
    if (a.active || a.latched) feed.alarms.set(a.id, a); else feed.alarms.delete(a.id);
  };
  const resync = async () => {
    if (pending) return;
    pending = [];
    try {
      const body = await api(token, "/api/v1/alarms?status=active&limit=1000");
      feed.alarms = new Map(body.alarms.map((a) => [a.id, a]));
      for (const a of pending) merge(a);
      feed.loaded = true; feed.error = null;
    } catch (err) { feed.error = err; }
    pending = null;
    redraw();
  };
  const onEvent = (a) => { if (pending) { pending.push(a); return; } merge(a); redraw(); };
  const start = () => {
    clearTimeout(stopTimer);
    off ??= events.on("alarm.*", onEvent, resync);
    timer ??= setInterval(resync, RESYNC_MS);
  };
  const stop = () => {
    clearInterval(timer); timer = null;
    off?.(); off = null;
  };
  const stopSoon = () => {
    clearTimeout(stopTimer);
    stopTimer = setTimeout(() => { if (!views.size) stop(); }, LINGER_MS);
  };
  feed.watch = (view) => {
    views.add(view);
    start();
    view.draw();
    return () => { views.delete(view); if (!views.size) stopSoon(); };
  };
  /** A reload now (after an action of this page, before its event arrives). */
  feed.refresh = resync;
  feed.close = () => { clearTimeout(stopTimer); views.clear(); stop(); };
  return feed;
}
