// The page language, shared by every page: Simplified Chinese by default,
// English on request (?lang=en, or the page's toggle, remembered per browser).
import zhCN from "/static/i18n/zh-CN.js";
import en from "/static/i18n/en.js";

const CATALOGUES = { "zh-CN": zhCN, en };
const DEFAULT_LANG = "zh-CN";
const STORAGE_KEY = "citywall.lang";
const SITE_TIME_ZONE = "Asia/Shanghai";  // the command centre's clock, whatever the browser says
const listeners = new Set();

// "zh", "zh-CN", "en", "en-GB"… to a catalogue name; null for anything else.
function catalogueOf(text) {
  if (!text) return null;
  if (text in CATALOGUES) return text;
  if (text.startsWith("zh")) return DEFAULT_LANG;
  return text.startsWith("en") ? "en" : null;
}

export const locale = {
  lang: catalogueOf(new URLSearchParams(location.search).get("lang"))
    || catalogueOf(localStorage.getItem(STORAGE_KEY)) || DEFAULT_LANG,
};

/** The text of `key` in the page language (Chinese, then the key itself, where it is missing). */
export function t(key) {
  return CATALOGUES[locale.lang][key] ?? CATALOGUES[DEFAULT_LANG][key] ?? key;
}

/** The text of `key`, or `fallback` where no catalogue has it (data, not a code: a note, a name). */
export function label(key, fallback) {
  return key in CATALOGUES[DEFAULT_LANG] ? t(key) : fallback;
}

/**
 * An error for people, never the server's English: an API error's machine code
 * translated; an unknown code as "unknown error (code)"; a failure without a code
 * (fetch's TypeError, a WebRTC DOMException) as a network error.
 */
export function errorText(err) {
  const code = err?.code;
  const network = err instanceof TypeError || err instanceof DOMException;
  if (typeof code !== "string") return t(network ? "error.network" : "error.unknown");
  return label(`error.${code}`, `${t("error.unknown")} (${code})`);
}

/** A wire timestamp (RFC 3339, e.g. 2026-12-04T18:53:45.123Z) as the site's local time. */
export function localTime(text, { withDate = false } = {}) {
  const options = { timeZone: SITE_TIME_ZONE, hour12: false };
  const when = new Date(text);
  return withDate ? when.toLocaleString(t("dateLocale"), options) : when.toLocaleTimeString(t("dateLocale"), options);
}

/** Calls `fn` after every language change (texts that pages draw themselves). */
export function onLocaleChange(fn) { listeners.add(fn); }

/** Sets the document language, every `[data-i18n]` element's text (the <title> too) and `[data-i18n-label]` aria-label. */
export function applyLocale() {
  document.documentElement.lang = locale.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-label]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.i18nLabel)); });
  for (const fn of listeners) fn();
}

/** Switches between Chinese and English and remembers the choice. */
export function toggleLocale() {
  locale.lang = locale.lang === DEFAULT_LANG ? "en" : DEFAULT_LANG;
  localStorage.setItem(STORAGE_KEY, locale.lang);
  applyLocale();
}
