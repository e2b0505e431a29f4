// Alarm list tiles: the page's alarm feed through the tile's filter
// (min_severity, domain, include_acknowledged) and limit, most severe first.
import { errorText, localTime, t } from "/static/locale.js";
import { alarmTypeLabel, severityColour, severityLabel, severityRank } from "/static/severity.js";
import { placeholder } from "/static/tiles/placeholder.js";

function cell(text, css) {
  const el = document.createElement("span");
  el.textContent = text;
  el.style.cssText = css;
  return el;
}

function ackText(a) { return a.latched ? t("alarm.latched") : a.acknowledged ? t("alarm.acked") : t("alarm.unacked"); }

function row(a, scale) {
  const colour = severityColour(a.severity);
  const el = document.createElement("div");
  Object.assign(el.dataset, { alarm: a.id, severity: a.severity, status: a.status, latched: String(a.latched) });
  el.style.cssText = `display:flex;align-items:center;gap:.6em;padding:.15em .5em;flex:none;border-left:${Math.max(3, 10 * scale)}px solid ${colour};`
    + `background:rgba(255,255,255,${a.acknowledged ? 0.03 : 0.1});${a.latched ? `outline:2px dashed ${colour};outline-offset:-2px;` : ""}`;
  el.append(
    cell(severityLabel(a.severity), `color:#000;background:${colour};padding:0 .35em;border-radius:.2em;font-weight:700;font-size:.8em`),
    cell(`${alarmTypeLabel(a.type)} · ${a.originator.id}`, "flex:1;white-space:nowrap;overflow:hidden;text-overflow:ellipsis"),
    cell(a.count ? `×${a.count + 1}` : "", "color:#9fb3dc"),
    cell(localTime(a.started_at), "font-variant-numeric:tabular-nums;color:#9fb3dc"),
    cell(ackText(a), `font-size:.8em;color:${a.acknowledged ? "#6d7fa6" : colour}`),
  );
  return el;
}

// Most severe first, then newest, then by id.
function order(a, b) {
  return severityRank(b.severity) - severityRank(a.severity)
    || new Date(b.started_at) - new Date(a.started_at) || (a.id < b.id ? -1 : 1);
}

function shownBy(filter) {
  const minRank = severityRank(filter.min_severity || "warning");
  return (a) => (a.active || a.latched) && severityRank(a.severity) >= minRank
    && (!filter.domain || a.domain === filter.domain)
    && (filter.include_acknowledged !== false || !a.acknowledged);
}

/** The list, redrawn on every change of the feed. */
export function create(tile, c, ctx) {
  const feed = ctx.alarms, scale = ctx.scale, shown = shownBy(c.filter || {});
  const el = document.createElement("div");
  el.className = "alarm-list";
  el.style.cssText = `position:absolute;inset:0;display:flex;flex-direction:column;gap:${Math.max(2, 8 * scale)}px;`
    + `padding:calc(var(--title-px,28px) * 1.7) ${Math.max(4, 14 * scale)}px 0;overflow:hidden;font-size:${Math.max(11, 34 * scale)}px`;
  const draw = () => {
    const alarms = [...feed.alarms.values()].filter(shown).sort(order).slice(0, c.limit || 20);
    el.dataset.count = String(alarms.length);
    if (alarms.length) { el.replaceChildren(...alarms.map((a) => row(a, scale))); return; }
    const text = feed.loaded ? t("alarm.none") : feed.error ? t("alarm.unavailable") : t("connecting");
    el.replaceChildren(placeholder(text, feed.error && !feed.loaded ? errorText(feed.error) : ""));
  };
  return { el, close: feed.watch({ draw }) };
}
