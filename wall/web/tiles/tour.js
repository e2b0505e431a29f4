// Tour tiles (轮巡): the service computes every tour (order, dwell, offline
// items skipped, synced tiles: T1-T6) and sends its state on the display feed,
// in the wall_state message and as a {"type": "tour"} message at every step:
// {tile_id, status: playing|paused|all_offline|empty, camera_id,
//  next_camera_id, switch_at (RFC 3339 UTC), stream: main|sub}.
// The tile shows camera_id, opens next_camera_id shortly before switch_at
// (T3: the switch shows a playing picture), and switches on the next message.
import { t } from "/static/locale.js";
import { placeholder } from "/static/tiles/placeholder.js";
import { liveView } from "/static/tiles/camera.js";

const PRE_OPEN_MS = 1500;
const NO_CAMERA_TEXT = { all_offline: "tile.allOffline", empty: "tile.tourEmpty" };

// A service that sends no tour state yet: the tile shows the first item.
const firstItem = (c) => ({ status: "playing", camera_id: c.items?.[0]?.camera_id ?? null, next_camera_id: null, switch_at: null });

/** A tour tile; view.onTour(state) shows each state the service sends. */
export function create(tile, c, ctx) {
  const el = document.createElement("div");
  el.style.cssText = "position:absolute;inset:0";
  const view = { el, current: null, next: null, timer: null };
  const open = (cameraId, s) => liveView(tile, cameraId, s.stream || c.stream || "auto", ctx);
  const shows = (v, cameraId, s) => v?.cameraId === cameraId && v.stream === (s.stream || c.stream || "auto");
  const dropNext = () => { view.next?.close(); view.next?.el.remove(); view.next = null; };
  const showCamera = (s) => {
    if (shows(view.current, s.camera_id, s)) return;
    const incoming = shows(view.next, s.camera_id, s) ? view.next : open(s.camera_id, s);
    if (incoming === view.next) view.next = null;
    incoming.el.style.visibility = "visible";
    el.replaceChildren(incoming.el, ...(view.next ? [view.next.el] : []));
    view.current?.close();
    view.current = incoming;
  };
  const showNothing = (text) => {
    view.current?.close(); view.current = null; dropNext();
    el.replaceChildren(placeholder(text));
  };
  const preOpen = (s) => {
    clearTimeout(view.timer);
    if (view.next && !shows(view.next, s.next_camera_id, s)) dropNext();
    if (!s.next_camera_id || !s.switch_at || s.next_camera_id === s.camera_id) return;
    view.timer = setTimeout(() => {
      if (view.next) return;
      view.next = open(s.next_camera_id, s);
      view.next.el.style.visibility = "hidden";
      el.append(view.next.el);
    }, Math.max(0, new Date(s.switch_at) - Date.now() - PRE_OPEN_MS));
  };
  view.onTour = (s) => {
    view.status = s.status;
    view.cameraId = NO_CAMERA_TEXT[s.status] ? null : s.camera_id;
    el.dataset.camera = view.cameraId || "";  // what the tour shows now (read by the browser tests)
    if (view.cameraId) showCamera(s); else showNothing(t(NO_CAMERA_TEXT[s.status] || "tile.tourEmpty"));
    preOpen(s);
  };
  view.state = () => view.current?.state() ?? "static";
  view.close = () => { clearTimeout(view.timer); view.current?.close(); dropNext(); };
  view.onTour(ctx.tourState(tile.id) ?? tile.tour ?? c.tour ?? firstItem(c));
  return view;
}
