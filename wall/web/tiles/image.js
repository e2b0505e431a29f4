// Image tiles: a picture served by the service (/static/…), fitted to the tile.

/** The content's image. */
export function create(tile, c) {
  const img = document.createElement("img");
  img.src = c.url;
  img.style.cssText = `width:100%;height:100%;object-fit:${c.fit || "contain"}`;
  return { el: img, close() {} };
}
