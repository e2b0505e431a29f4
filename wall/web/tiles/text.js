// Text tiles: a banner, scrolling when the content asks for it.

/** A text banner sized to the drawn tile (`ctx.scale`). */
export function create(tile, c, ctx) {
  const el = document.createElement("div");
  el.className = `banner ${c.level || "info"}`;
  el.style.setProperty("--text-px", `${Math.max(10, (c.font_px || 48) * ctx.scale)}px`);
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
