// The wall stage: draws a wall_state message's panels and tiles, rebuilds only
// the tiles that change, and hands the live sessions of retired camera tiles
// to the new tiles that show the same camera and stream (a seamless switch).
import { createTile } from "/static/tiles/registry.js";
import { afterPaint } from "/static/tiles/paint.js";

// What makes a tile's drawing; a tour's state is not part of it (steps come as messages).
function tileSignature(tile, scale) {
  const { tour, ...content } = tile.content;
  return JSON.stringify([content, tile.tile_wh, tile.crop, tile.rect, tile.title, tile.title_mode, scale]);
}

function titleBar(tile) {
  const bar = document.createElement("div");
  bar.className = "bar";
  bar.innerHTML = '<span class="name"></span>';
  bar.firstChild.textContent = tile.title || tile.content.camera_id || "";
  if (tile.title_mode === "title_live" || tile.content.kind === "camera") bar.insertAdjacentHTML("afterbegin", '<span class="dot"></span>');
  return bar;
}

function tileElement(tile, scale) {
  const el = document.createElement("section");
  el.className = "tile";
  el.dataset.tile = tile.id;
  el.dataset.kind = tile.content.kind;
  if (tile.content.camera_id) el.dataset.camera = tile.content.camera_id;
  el.style.setProperty("--title-px", `${Math.max(10, 30 * scale)}px`);
  el.style.setProperty("--badge-px", `${Math.max(12, 56 * scale)}px`);
  el.style.setProperty("--ph-px", `${Math.max(10, 40 * scale)}px`);
  el.dataset.state = "connecting";
  return el;
}

// The full-size content, offset by the crop: a tile spanning panels shows its piece.
function contentBox(tile, scale) {
  const inner = document.createElement("div");
  inner.className = "content";
  Object.assign(inner.style, { width: `${tile.tile_wh[0] * scale}px`, height: `${tile.tile_wh[1] * scale}px`,
    left: `${-tile.crop[0] * scale}px`, top: `${-tile.crop[1] * scale}px` });
  return inner;
}

function place(el, rect, scale, z) {
  Object.assign(el.style, { left: `${rect[0] * scale}px`, top: `${rect[1] * scale}px`,
    width: `${rect[2] * scale}px`, height: `${rect[3] * scale}px` });
  if (z !== undefined) el.style.zIndex = String(z);
}

/** A stage drawing into `root`; `page` is the tiles' context without the scale. */
export function createStage(root, page) {
  const views = new Map();  // "panel/tile" -> { el, view, tile, sig }
  let spare = new Map();    // reuse key -> retired live views
  const ctx = {
    ...page,
    takeSpare(key) { return key ? spare.get(key)?.pop() ?? null : null; },
  };
  const build = (tile, scale) => {
    const el = tileElement(tile, scale), inner = contentBox(tile, scale);
    const view = createTile(tile, { ...ctx, scale });
    inner.append(view.el);
    if (tile.title_mode !== "none") inner.append(titleBar(tile));  // cropped like the picture
    el.append(inner);
    return { el, view, tile };
  };
  const refresh = (v) => { v.el.dataset.state = v.view.state?.() ?? "static"; };
  const retire = (wanted) => {
    spare = new Map();
    for (const [key, v] of views) {
      if (wanted.get(key) === v.sig) continue;
      v.el.remove();
      views.delete(key);
      const k = v.view.reuseKey;
      if (k && !v.view.error && !v.view.closed) (spare.get(k) || spare.set(k, []).get(k)).push(v.view);
      else v.view.close();
    }
  };
  const panelElement = (panel) => {
    let pel = root.querySelector(`.panel[data-index="${panel.index}"]`);
    if (!pel) { pel = document.createElement("div"); pel.className = "panel"; pel.dataset.index = panel.index; root.append(pel); }
    pel.dataset.layout = panel.layout_id || "";
    return pel;
  };
  const drawPanel = (panel, scale, [x, y, w, h], wanted) => {
    const pel = panelElement(panel);
    place(pel, [x, y, w, h], scale);
    for (const tile of panel.tiles) {
      const key = `${panel.index}/${tile.id}`;
      let v = views.get(key);
      if (!v) { v = build(tile, scale); v.sig = wanted.get(key); views.set(key, v); pel.append(v.el); }
      place(v.el, tile.rect, scale, tile.z);
      refresh(v);
    }
  };
  return {
    /** Draws the panels `shown` of `msg` at `scale`; `single`: one panel fills the page. */
    draw(msg, shown, scale, single) {
      const wanted = new Map();
      for (const panel of shown) for (const tile of panel.tiles) wanted.set(`${panel.index}/${tile.id}`, tileSignature(tile, scale));
      retire(wanted);  // 1. the tiles that change; their live sessions become spares
      const [pw, ph] = msg.panel_wh;
      for (const panel of shown) {  // 2. build the new tiles, taking a spare session where one fits
        drawPanel(panel, scale, single ? [0, 0, pw, ph] : [panel.rect[0], panel.rect[1], pw, ph], wanted);
      }
      // 3. hang up the sessions no new tile took, once the switch is on screen
      for (const list of spare.values()) for (const view of list) { view.closed = true; afterPaint(() => view.close()); }
      spare = new Map();
      for (const pel of root.querySelectorAll(".panel")) if (!shown.some((p) => String(p.index) === pel.dataset.index)) pel.remove();
    },
    /** A tour step for every piece of tile `msg.tile_id`. */
    tour(msg) { for (const v of views.values()) if (v.tile.id === msg.tile_id) v.view.onTour?.(msg); },
    refreshStates() { for (const v of views.values()) refresh(v); },
    /** Closes every tile (a new login, or a page that goes away, hangs up). */
    clear() { for (const v of views.values()) { v.view.close(); v.el.remove(); } views.clear(); },
  };
}
