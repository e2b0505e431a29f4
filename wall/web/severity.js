// Alarm severities: their order and colour (labels: the catalogues' severity.* keys).
import { label, t } from "/static/locale.js";

const RANK = { critical: 4, major: 3, minor: 2, warning: 1, indeterminate: 0 };
const COLOUR = { critical: "#ff3b30", major: "#ff8c00", minor: "#ffcc00", warning: "#4da3ff", indeterminate: "#8ea4d2" };

/** Higher is more severe; an unknown severity ranks lowest. */
export const severityRank = (severity) => RANK[severity] ?? 0;
export const severityColour = (severity) => COLOUR[severity] ?? COLOUR.indeterminate;
export const severityLabel = (severity) => t(`severity.${severity}`);
/** What the alarm is, for people: its translated type (the raw type where there is no text). */
export const alarmTypeLabel = (type) => label(`alarmType.${type}`, type);
