// Detection boxes and zone counts over a camera tile (content.overlay_detections),
// drawn from its camera's detection.analysis events (the service publishes them
// a few times a second for every analysed camera; a camera without analysis
// simply sends none). The analysis runs on the sub stream: coordinates are
// scaled from its frame to the tile.
const ANALYSIS_TOPIC = "detection.analysis";
const STALE_MS = 2000;  // no analysis for this long: the boxes are out of date, clear them

function drawZones(g, zones, sx, sy, w) {
  for (const z of zones) {
    g.strokeStyle = z.alarms?.length ? "#ff3b30" : z.kind === "danger" ? "#ffcc00" : "#2ecc71";
    g.beginPath();
    z.polygon.forEach(([x, y], i) => (i ? g.lineTo(x * sx, y * sy) : g.moveTo(x * sx, y * sy)));
    g.closePath(); g.stroke();
    const [x0, y0] = z.polygon[0];
    g.fillStyle = g.strokeStyle;
    const density = z.density_ppm2 == null ? "" : ` · ${z.density_ppm2.toFixed(1)}/m²`;
    g.fillText(`${z.name}: ${z.count ?? "–"}${density}`, x0 * sx + 4, y0 * sy + Math.max(12, w / 40));
  }
}

function drawBoxes(g, boxes, sx, sy) {
  g.strokeStyle = "#3d9bff";
  for (const b of boxes) {
    const [x1, y1, x2, y2] = b.xyxy;
    g.strokeRect(x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy);
  }
}

function draw(canvas, wrap, analysis) {
  const w = (canvas.width = wrap.clientWidth), h = (canvas.height = wrap.clientHeight);
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, w, h);
  if (!analysis.frame_wh) return;
  const sx = w / analysis.frame_wh[0], sy = h / analysis.frame_wh[1];
  g.lineWidth = Math.max(1, w / 400);
  g.font = `${Math.max(10, w / 45)}px sans-serif`;
  drawZones(g, analysis.zones || [], sx, sy, w);
  drawBoxes(g, analysis.boxes || [], sx, sy);
}

/** Adds the overlay of `cameraId` to `wrap`; returns the function that removes it. */
export function detectionOverlay(wrap, cameraId, events) {
  const canvas = document.createElement("canvas");
  canvas.className = "overlay";
  canvas.style.cssText = "position:absolute;inset:0;width:100%;height:100%;pointer-events:none;z-index:1";
  wrap.append(canvas);
  let stale = null;
  const clear = () => canvas.getContext("2d")?.clearRect(0, 0, canvas.width, canvas.height);
  const off = events.on(ANALYSIS_TOPIC, (analysis) => {
    if (analysis.camera_id !== cameraId) return;
    draw(canvas, wrap, analysis);
    clearTimeout(stale);
    stale = setTimeout(clear, STALE_MS);
  });
  return () => { off(); clearTimeout(stale); canvas.remove(); };
}
