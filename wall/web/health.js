// Camera stream health by camera and stream: a GET /api/v1/cameras snapshot
// after each (re)subscription (a camera that went down while the page was away
// counts as down), kept current from camera.health events.
import { api } from "/static/api.js";

const USABLE = new Set(["live", "connecting", "idle"]);
const keyOf = (cameraId, stream) => `${cameraId}/${stream}`;

/**
 * Watches camera.health on `events` with `token`; `onChange()` after each event and snapshot.
 * Returns { health: Map("camera/stream" -> {camera_id, stream, state, reason, detail}), online(cameraId) }.
 */
export function cameraHealth(token, events, onChange = () => {}) {
  const health = new Map();
  let touched = null;  // while a snapshot loads: the streams events have told about since (they are newer)
  const seed = async () => {
    if (touched) return;
    touched = new Set();
    try {
      const { cameras } = await api(token, "/api/v1/cameras");
      for (const cam of cameras) for (const [stream, s] of Object.entries(cam.streams)) {
        const key = keyOf(cam.id, stream);
        if (!touched.has(key)) health.set(key, { camera_id: cam.id, stream, ...s.health });
      }
    } catch (err) { console.warn("camera health snapshot failed", err); }  // the events still count
    touched = null;
    onChange();
  };
  const onEvent = (data) => {
    const key = keyOf(data.camera_id, data.stream);
    touched?.add(key);
    health.set(key, data);
    onChange(data);
  };
  events.on("camera.health", onEvent, seed);
  return {
    health,
    /** True unless every known stream of the camera is down (unknown counts as online). */
    online(cameraId) {
      const states = ["main", "sub"].map((s) => health.get(keyOf(cameraId, s))?.state).filter(Boolean);
      return states.length === 0 || states.some((s) => USABLE.has(s));
    },
  };
}
