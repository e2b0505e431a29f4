// Camera stream health by camera and stream, kept current from camera.health events.
const USABLE = new Set(["live", "connecting", "idle"]);

/**
 * Watches camera.health on `events`; `onChange(data)` after each event.
 * Returns { health: Map("camera/stream" -> data), online(cameraId) }.
 */
export function cameraHealth(events, onChange = () => {}) {
  const health = new Map();
  events.on("camera.health", (data) => { health.set(`${data.camera_id}/${data.stream}`, data); onChange(data); });
  return {
    health,
    /** True unless every known stream of the camera is down (unknown counts as online). */
    online(cameraId) {
      const states = ["main", "sub"].map((s) => health.get(`${cameraId}/${s}`)?.state).filter(Boolean);
      return states.length === 0 || states.some((s) => USABLE.has(s));
    },
  };
}
