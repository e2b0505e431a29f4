// Camera tiles: the camera's live video over WebRTC, a "signal lost" badge,
// and the detection overlay when the content asks for it.
import { startLiveView } from "/static/webrtc.js";
import { errorText, t } from "/static/locale.js";
import { afterPaint } from "/static/tiles/paint.js";
import { placeholder, placeholderView } from "/static/tiles/placeholder.js";
import { detectionOverlay } from "/static/tiles/overlay.js";

/**
 * Tiles that show the same camera, stream and overlay can share a live session:
 * on a layout switch such a tile keeps its playing <video> instead of hanging
 * up and negotiating again (no black flash, far less work for every display).
 */
export function reuseKey(c) {
  if (c.kind !== "camera" || c.camera_removed || !c.stream_role) return null;
  return `${c.camera_id}|${c.stream_role}|${c.overlay_detections ? 1 : 0}`;
}

function videoElement() {
  const video = document.createElement("video");
  video.autoplay = true; video.muted = true; video.playsInline = true;
  return video;
}

/**
 * A live view of `cameraId` in a tile of `tile.tile_wh` (also used by tours).
 * The view: { el, video, cameraId, stream, closed, error, state(), close() }.
 */
export function liveView(tile, cameraId, stream, ctx, { overlay = false } = {}) {
  const wrap = document.createElement("div");
  wrap.style.cssText = "position:absolute;inset:0";
  const video = videoElement();
  const lost = document.createElement("div");
  lost.className = "lost";
  lost.textContent = t("stream.offline");
  wrap.append(video, lost);
  const view = { el: wrap, video, cameraId, stream, handle: null, closed: false, error: null };
  const options = { token: ctx.token, stream, tileWidth: tile.tile_wh[0], tileHeight: tile.tile_wh[1] };
  // negotiate after the new layout is on screen: a switch is seen at once and
  // the peer connections' set-up does not delay the frame that shows it
  afterPaint(() => view.closed ? null : startLiveView(video, cameraId, options)
    .then((h) => { if (view.closed) h.close(); else view.handle = h; })
    .catch((err) => {
      view.error = err;
      const text = err.code === "unsupported_codec" ? t("stream.unsupported_codec") : t("stream.offline");
      wrap.replaceChildren(placeholder(text, errorText(err)));
    }));
  const stopOverlay = overlay ? detectionOverlay(wrap, cameraId, ctx.events) : null;
  view.close = () => { view.closed = true; view.handle?.close(); stopOverlay?.(); };
  // a session that failed shows its placeholder: lost, like a camera that is down
  view.state = () => view.error || !ctx.health.online(cameraId) ? "lost" : video.currentTime > 0 ? "live" : "connecting";
  return view;
}

/** A camera tile: a spare live session of the switch when one fits, else a new one. */
export function create(tile, c, ctx) {
  if (c.camera_removed) return { ...placeholderView(t("tile.removed"), c.camera_id), state: () => "lost" };
  const key = reuseKey(c);
  const spare = ctx.takeSpare(key);
  if (spare) { ctx.sessions.kept++; return spare; }
  ctx.sessions.started++;
  const view = liveView(tile, c.camera_id, c.stream_role || c.stream || "auto", ctx, { overlay: c.overlay_detections });
  view.reuseKey = key;
  return view;
}
