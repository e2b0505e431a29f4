// Clock tiles: time and date in the content's time zone, in the page language.
import { t } from "/static/locale.js";

/** A clock that ticks twice a second until closed. */
export function create(tile, c, ctx) {
  const h = tile.tile_wh[1] * ctx.scale;
  const el = document.createElement("div");
  el.className = "clock";
  el.style.setProperty("--clock-px", `${Math.max(12, Math.min(h * 0.45, 160 * ctx.scale))}px`);
  el.innerHTML = '<div class="time"></div><div class="date"></div>';
  const tz = c.tz || "Asia/Shanghai";
  const tick = () => {
    const now = new Date();
    el.firstChild.textContent = now.toLocaleTimeString(t("dateLocale"), { timeZone: tz, hour12: false });
    el.lastChild.textContent = now.toLocaleDateString(t("dateLocale"),
      { timeZone: tz, year: "numeric", month: "long", day: "numeric", weekday: "long" });
  };
  tick();
  const timer = setInterval(tick, 500);
  return { el, close() { clearInterval(timer); } };
}
