// The console's alarm panel: active (and latched) alarms, newest first, with
// Ack (duty officers, admins) and Force (admins: also clears) buttons; kept
// current by the page's alarm feed.
import { api } from "/static/api.js";
import { errorText, localTime, t } from "/static/locale.js";
import { alarmTypeLabel, severityColour, severityLabel } from "/static/severity.js";

const CAN_ACK = new Set(["admin", "duty_officer"]);

const newestFirst = (a, b) => new Date(b.started_at) - new Date(a.started_at) || (a.id < b.id ? 1 : -1);

function ackButton(alarm, forced, page) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = forced ? "force" : "ack";
  b.textContent = forced ? t("console.force") : t("console.ack");
  b.addEventListener("click", async () => {
    if (forced && !confirm(t("console.forceAsk"))) return;
    b.disabled = true;
    try {
      await api(page.token, `/api/v1/alarms/${encodeURIComponent(alarm.id)}/ack`, { method: "POST", json: { forced } });
      page.message(`${t("console.ackedMsg")}: ${alarmTypeLabel(alarm.type)} · ${alarm.originator.id}`);
    } catch (err) { page.message(errorText(err), true); b.disabled = false; }
    page.feed.refresh();
  });
  return b;
}

function ackState(a) {
  return a.latched ? ` · ${t("alarm.latched")}` : a.acknowledged ? ` · ${t("alarm.acked")} ${a.acked_by}` : "";
}

function alarmItem(a, page) {
  const li = document.createElement("li");
  Object.assign(li.dataset, { alarm: a.id, severity: a.severity, status: a.status, latched: String(a.latched) });
  li.style.setProperty("--sev", severityColour(a.severity));
  li.innerHTML = '<span class="sev"></span><span class="what"></span><small class="when"></small><span class="actions"></span>';
  li.querySelector(".sev").textContent = severityLabel(a.severity);
  li.querySelector(".what").textContent = `${alarmTypeLabel(a.type)} · ${a.originator.kind}:${a.originator.id}${a.count ? ` ×${a.count + 1}` : ""}`;
  li.querySelector(".when").textContent = `${localTime(a.started_at, { withDate: true })}${ackState(a)}`;
  const actions = li.querySelector(".actions");
  if (!a.acknowledged && CAN_ACK.has(page.role())) actions.append(ackButton(a, false, page));
  if (a.active && page.role() === "admin") actions.append(ackButton(a, true, page));
  return li;
}

/**
 * Draws `feed` into `list` (and its count into `count`). `page`: token, role(), message(text, bad).
 * Returns { draw() } (for a language change).
 */
export function consoleAlarms(list, count, feed, page) {
  const ctx = { ...page, feed };
  const draw = () => {
    const alarms = [...feed.alarms.values()].sort(newestFirst);
    count.textContent = feed.error && !feed.loaded ? errorText(feed.error) : alarms.length ? `(${alarms.length})` : "";
    if (alarms.length) { list.replaceChildren(...alarms.map((a) => alarmItem(a, ctx))); return; }
    const li = document.createElement("li");
    li.className = "none";
    li.textContent = t("alarm.none");
    list.replaceChildren(li);
  };
  feed.watch({ draw });
  return { draw };
}
