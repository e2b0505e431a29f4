// Map tiles: a schematic of camera positions projected around the centre
// (Web Mercator scale); a command-centre network has no internet, so no
// base-map tiles.
import { t } from "/static/locale.js";
import { placeholder } from "/static/tiles/placeholder.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function cameraMark(cam, x, y, w) {
  const g = document.createElementNS(SVG_NS, "g");
  g.innerHTML = `<circle r="${Math.max(6, w / 160)}" fill="#2ecc71" stroke="#fff" stroke-width="2"></circle>`;
  const label = document.createElementNS(SVG_NS, "text");
  label.setAttribute("x", "14"); label.setAttribute("y", "6"); label.setAttribute("fill", "#dfe8ff");
  label.setAttribute("font-size", `${Math.max(12, w / 70)}`);
  label.textContent = cam.name;
  g.append(label);
  g.setAttribute("transform", `translate(${x},${y})`);
  g.dataset.camera = cam.id;
  return g;
}

// Where a point lands on a w×h schematic centred on `c.center` at `c.zoom`.
function projection(c, w, h) {
  const lat0 = c.center?.lat ?? 31.86, lon0 = c.center?.lon ?? 106.75, zoom = c.zoom ?? 12;
  const cosLat = Math.cos((lat0 * Math.PI) / 180);
  const mPerPx = (156543.03 * cosLat) / 2 ** zoom;
  return ({ lat, lon }) => [w / 2 + ((lon - lon0) * 111320 * cosLat) / mPerPx, h / 2 - ((lat - lat0) * 110540) / mPerPx];
}

/** The schematic, with the cameras that have a location inside it. */
export function create(tile, c, ctx) {
  const w = tile.tile_wh[0] * ctx.scale, h = tile.tile_wh[1] * ctx.scale;
  const el = document.createElement("div");
  el.className = "mapview";
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  const note = placeholder("", t("tile.noMap"));
  note.style.cssText += ";border:none;justify-content:flex-end;pointer-events:none";
  el.append(svg, note);
  const project = projection(c, w, h);
  ctx.cameras().then((cams) => {
    for (const cam of cams) {
      if (!cam.location) continue;
      const [x, y] = project(cam.location);
      if (x >= 0 && y >= 0 && x <= w && y <= h) svg.append(cameraMark(cam, x, y, w));
    }
  });
  return { el, close() {} };
}
